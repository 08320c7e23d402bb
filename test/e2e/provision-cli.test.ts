import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useCliSite } from '../helpers/cli-site.js';

/* `lintel people put|delete` and `lintel cards put|remove` as an operator runs them (the built CLI): the API's use cases and rules, exit codes. */

describe('lintel people put / cards put', () => {
  const site = useCliSite('ux', 'zones: { lobby: { doors: [front] } }\naccessGroups: { staff: { zones: [{ zone: lobby }] } }\n');
  const lintel = (...args: string[]) => site.lintel(...args);

  it('creates, repeats unchanged, gives a card in any format, refuses a card of someone else, removes', () => {
    const made = lintel('people', 'put', 'Ana@Example.com', '--name', 'Ana', '--groups', 'staff');
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toBe('created: ana@example.com (Ana): active; groups: staff; cards: no card (pending)\n');
    expect(lintel('people', 'put', 'ana@example.com', '--name', 'Ana', '--groups', 'staff').stdout).toMatch(/^unchanged: /);
    const bad = lintel('people', 'put', 'ana@example.com', '--groups', 'vault');
    expect([bad.status, bad.stderr.split('\n')[0]]).toEqual([2, 'unknown access group "vault"']);
    const card = lintel('cards', 'put', 'ana@example.com', '12:3456', '--format', 'wiegand26', '--json');
    expect(card.status, card.stderr).toBe(0);
    expect(JSON.parse(card.stdout)).toMatchObject({ pending: false, cards: [{ number: '789888', format: 'wiegand26', state: 'active' }] });
    expect(lintel('people', 'put', 'bo@example.com').status).toBe(0);
    const stolen = lintel('cards', 'put', 'bo@example.com', '789888');
    expect(stolen.status).toBe(1);
    expect(stolen.stderr).toContain('card ****88 belongs to another person');
    expect(stolen.stderr).not.toContain('789888');
    expect(lintel('cards', 'remove', 'ana@example.com', '789888').status).toBe(0);
    expect(lintel('cards', 'remove', 'ana@example.com', '789888').status).toBe(1);
    expect(lintel('people', 'delete', 'bo@example.com').status).toBe(0);
    expect(lintel('people', 'delete', 'bo@example.com').status).toBe(1);
    expect(lintel('people', 'put', 'not-an-email').status).toBe(2);

    const db = new Database(join(site.dir, 'data', 'lintel.db'), { readonly: true });
    const audit = db.prepare('SELECT actor, action, target FROM change_audit ORDER BY id').all() as { actor: string; action: string; target: string }[];
    db.close();
    expect(audit.map((a) => [a.action, a.target])).toEqual([
      ['person.create', 'ana@example.com'],
      ['card.active', 'ana@example.com ****88'],
      ['person.create', 'bo@example.com'],
      ['card.delete', 'ana@example.com ****88'],
      ['person.delete', 'bo@example.com'],
    ]);
    expect(audit.every((a) => a.actor.startsWith('cli:'))).toBe(true);
  });
});
