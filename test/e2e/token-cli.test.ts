import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useCliSite } from '../helpers/cli-site.js';

/* `lintel token create|list|revoke` as an operator runs it (the built CLI): the secret printed once and stored nowhere, exit codes. */

describe('lintel token', () => {
  const site = useCliSite();
  const lintel = (...args: string[]) => site.lintel(...args);

  it('creates a token shown once, lists it without the secret, revokes it once, with a change-audit row each', () => {
    const made = lintel('token', 'create', '--scope', 'write', '--name', 'platform', '--json');
    expect(made.status, made.stderr).toBe(0);
    const { token } = JSON.parse(made.stdout) as { token: string };
    expect(token).toMatch(/^lt_[A-Za-z0-9_-]{43}$/);
    const listed = lintel('token', 'list', '--json');
    expect(listed.stdout).not.toContain(token);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name: 'platform', scope: 'write', revokedAt: null }]);
    expect(lintel('token', 'revoke', 'platform').status).toBe(0);
    expect(lintel('token', 'revoke', 'platform').status).toBe(1);
    const db = new Database(join(site.dir, 'data', 'lintel.db'), { readonly: true });
    try {
      const actions = db.prepare('SELECT actor, action, target FROM change_audit ORDER BY id').all() as { actor: string; action: string; target: string }[];
      expect(actions.map((a) => [a.action, a.target])).toEqual([
        ['token.create', 'platform'],
        ['token.revoke', 'platform'],
      ]);
      expect(actions.every((a) => a.actor.startsWith('cli:'))).toBe(true);
    } finally {
      db.close();
    }
  });

  it('a bad scope or a taken name is a usage error (exit 2) and writes nothing', () => {
    const before = lintel('token', 'list', '--json').stdout;
    const bad = lintel('token', 'create', '--scope', 'root');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/usage: lintel token create/);
    expect(lintel('token', 'create', '--scope', 'read', '--name', 'platform').status).toBe(2);
    expect(lintel('token', 'list', '--json').stdout).toBe(before);
  });
});
