import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { Store } from '../../src/store/store.js';
import { putSubscription } from '../../src/store/subscription-admin.js';
import { useCliSite } from '../helpers/cli-site.js';
import { idLike } from '../helpers/id-like.js';
import { dump, membershipsOf } from '../helpers/provisioning.js';

/*
 * `lintel companies …` and `lintel subscriptions …` as an operator runs them (the built CLI):
 * each change is one change_audit row by "cli:…", a repeat says unchanged and writes nothing,
 * bad input is exit 2 and missing data exit 1 with the database as it was, --json has no row id.
 */

const YAML = 'zones: { lobby: { doors: [front] } }\naccessGroups: { staff: { zones: [{ zone: lobby }] }, gym: { zones: [{ zone: lobby }] } }\n';
const T0 = '2026-01-01T00:00:00Z';

/** Opens the site's database file for a look between two CLI runs. */
function withDb<T>(dir: string, fn: (store: Store) => T): T {
  const store = new Store(openDatabase(join(dir, 'data', 'lintel.db')));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

const audit = (dir: string) => withDb(dir, (s) => s.db.prepare('SELECT actor, action, target FROM change_audit ORDER BY id').all() as { actor: string; action: string; target: string }[]);


describe('lintel companies', () => {
  const site = useCliSite('ux', YAML);
  const lintel = (...args: string[]) => site.lintel(...args);

  it('puts, repeats unchanged, joins and leaves with the company subscription following, deletes; one audit row per change', () => {
    const made = lintel('companies', 'put', 'acme', '--name', 'Acme');
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toBe('created company acme (Acme): no members\n');
    expect(lintel('companies', 'put', 'acme', '--name', 'Acme').stdout).toBe('unchanged company acme (Acme): no members\n');
    expect(lintel('companies', 'put', 'acme', '--name', 'Acme Ltd').stdout).toBe('renamed company acme (Acme Ltd): no members\n');

    expect(lintel('subscriptions', 'put', 'plan-1', '--company', 'acme', '--groups', 'staff', '--starts', T0).status).toBe(0);
    const joined = lintel('companies', 'join', 'acme', 'Ana@Example.com', '--name', 'Ana');
    expect(joined.status, joined.stderr).toBe(0);
    expect(joined.stdout).toBe('joined ana@example.com to company acme (new person, pending until a card arrives)\n');
    expect(withDb(site.dir, (s) => membershipsOf(s, 'ana@example.com'))).toEqual([['staff', Date.parse(T0), null, 'subscription', 'plan-1']]);
    const before = withDb(site.dir, dump);
    expect(lintel('companies', 'join', 'acme', 'ana@example.com').stdout).toBe('unchanged: ana@example.com is a member of company acme\n');
    expect(withDb(site.dir, dump)).toEqual(before);

    const shown = lintel('companies', 'show', 'acme', '--json');
    expect(shown.status).toBe(0);
    const company = JSON.parse(shown.stdout) as Record<string, unknown>;
    expect(company).toEqual({ id: 'acme', name: 'Acme Ltd', members: ['ana@example.com'], createdAt: expect.stringMatching(/^2\d{3}-.*Z$/), updatedAt: expect.any(String) });
    expect(idLike(company)).toEqual([['id', 'acme']]);

    expect(lintel('companies', 'leave', 'acme', 'ana@example.com').stdout).toBe('ana@example.com left company acme\n');
    expect(withDb(site.dir, (s) => membershipsOf(s, 'ana@example.com'))).toEqual([]);
    const again = lintel('companies', 'leave', 'acme', 'ana@example.com');
    expect([again.status, again.stderr]).toEqual([1, 'ana@example.com is not a member of company acme (nothing changed)\n']);

    expect(lintel('companies', 'delete', 'acme').stdout).toBe('deleted company acme\n');
    for (const args of [['delete', 'acme'], ['leave', 'acme', 'ana@example.com'], ['join', 'acme', 'ana@example.com'], ['show', 'acme']]) {
      const r = lintel('companies', ...args);
      expect([r.status, r.stderr], args.join(' ')).toEqual([1, 'no company with id "acme" (nothing changed)\n']);
    }
    expect(lintel('companies', 'join', 'acme', 'not-an-email').status).toBe(2);
    expect(lintel('companies', 'put', ' acme').status).toBe(2);

    const rows = audit(site.dir);
    expect(rows.map((a) => [a.action, a.target])).toEqual([
      ['company.create', 'acme'],
      ['company.update', 'acme'],
      ['subscription.create', 'plan-1'],
      ['company.join', 'acme/ana@example.com'],
      ['company.leave', 'acme/ana@example.com'],
      ['company.delete', 'acme'],
    ]);
    expect(rows.every((a) => a.actor.startsWith('cli:'))).toBe(true);
  }, 60_000);
});

// The steps build on each other in order (one site): s1 is made by the first and ended by the second.
describe('lintel subscriptions', () => {
  const site = useCliSite('ux', YAML);
  const lintel = (...args: string[]) => site.lintel(...args);
  const put = (...args: string[]) => lintel('subscriptions', 'put', ...args);

  it('puts for a person, repeats unchanged, refuses bad input with nothing written', () => {
    const made = put('s1', '--email', 'bo@example.com', '--name', 'Bo', '--groups', 'staff,gym', '--starts', T0, '--ends', '2027-01-01T00:00:00Z', '--json');
    expect(made.status, made.stderr).toBe(0);
    const sub = JSON.parse(made.stdout) as Record<string, unknown>;
    expect(sub).toEqual({ id: 's1', email: 'bo@example.com', groups: ['gym', 'staff'], startsAt: '2026-01-01T00:00:00.000Z', endsAt: '2027-01-01T00:00:00.000Z', cancelledAt: null });
    expect(idLike(sub)).toEqual([['id', 's1']]);
    const repeat = put('s1', '--email', 'bo@example.com', '--groups', 'gym,staff', '--starts', T0, '--ends', '2027-01-01T00:00:00Z');
    expect(repeat.stdout).toBe('unchanged subscription s1 for bo@example.com: gym, staff from 2026-01-01T00:00:00.000Z until 2027-01-01T00:00:00.000Z\n');

    const before = withDb(site.dir, dump);
    const refusals: [string[], number, string][] = [
      [['s2', '--groups', 'vault', '--email', 'bo@example.com', '--starts', T0], 2, 'unknown access group "vault"'],
      [['s2', '--groups', 'staff', '--email', 'bo@example.com', '--starts', 'yesterday'], 2, '--starts: Invalid ISO datetime'],
      [['s2', '--groups', 'staff', '--email', 'bo@example.com', '--starts', T0, '--ends', T0], 2, '--ends: endsAt must be after startsAt'],
      [['s2', '--groups', 'staff', '--email', 'bo@example.com'], 2, '--starts is required'],
      [['s2', '--groups', 'staff', '--starts', T0], 2, 'give exactly one of --email and --company'],
      [['s2', '--groups', 'staff', '--starts', T0, '--email', 'bo@example.com', '--company', 'acme'], 2, 'give exactly one of --email and --company'],
      [['s2', '--groups', 'staff', '--starts', T0, '--company', 'acme', '--name', 'Acme'], 2, '--name goes with --email'],
      [['s2', '--starts', T0, '--company', 'acme'], 2, '--groups: Too small: expected array to have >=1 items'],
      [['s2', '--groups', 'staff', '--starts', T0, '--company', 'acme'], 1, 'no company with id "acme" (nothing changed)'],
    ];
    for (const [args, status, message] of refusals) {
      const r = put(...args);
      expect([r.status, r.stderr.split('\n')[0]], args.join(' ')).toEqual([status, message]);
    }
    expect(withDb(site.dir, dump)).toEqual(before);
  }, 60_000);

  it('puts for a company, lists, cancels now or at an instant, deletes; one audit row per change', () => {
    expect(lintel('companies', 'put', 'acme').status).toBe(0);
    expect(lintel('companies', 'join', 'acme', 'cy@example.com').status).toBe(0);
    expect(put('s2', '--company', 'acme', '--groups', 'gym', '--starts', T0).stdout).toBe('created subscription s2 for company acme: gym from 2026-01-01T00:00:00.000Z until open\n');
    expect(withDb(site.dir, (s) => membershipsOf(s, 'cy@example.com'))).toEqual([['gym', Date.parse(T0), null, 'subscription', 's2']]);

    const list = lintel('subscriptions', 'list', '--json');
    expect((JSON.parse(list.stdout) as { id: string }[]).map((s) => s.id)).toEqual(['s1', 's2']);
    expect(lintel('subscriptions', 'list', '--company', 'acme').stdout).toBe('subscription s2 for company acme: gym from 2026-01-01T00:00:00.000Z until open\n');
    expect(lintel('subscriptions', 'list', '--email', 'nobody@example.com').stdout).toBe('no subscriptions\n');

    // A plain cancel ends access now; repeated, it must not move that moment later.
    expect(lintel('subscriptions', 'cancel', 's2').stdout).toMatch(/^cancelled subscription s2 .*; cancelled at 2\d{3}-/);
    const cancelled = withDb(site.dir, dump);
    expect(lintel('subscriptions', 'cancel', 's2').stdout).toMatch(/^unchanged subscription s2 /);
    expect(withDb(site.dir, dump)).toEqual(cancelled);
    const cyEnd = withDb(site.dir, (s) => membershipsOf(s, 'cy@example.com'))[0]?.[2];
    expect(cyEnd).toBeLessThanOrEqual(Date.now());
    expect(lintel('subscriptions', 'cancel', 's1', '--at', '2026-06-01T00:00:00+02:00').stdout).toMatch(/cancelled at 2026-05-31T22:00:00\.000Z\n$/);
    expect(lintel('subscriptions', 'cancel', 's1', '--at', '2026-06-01T00:00:00+02:00').stdout).toMatch(/^unchanged /);
    expect(JSON.parse(lintel('subscriptions', 'show', 's1', '--json').stdout)).toMatchObject({ id: 's1', cancelledAt: '2026-05-31T22:00:00.000Z' });
    expect(lintel('subscriptions', 'cancel', 's1', '--at', 'soon').status).toBe(2);

    expect(lintel('subscriptions', 'delete', 's1').stdout).toBe('deleted subscription s1\n');
    expect(withDb(site.dir, (s) => membershipsOf(s, 'bo@example.com'))).toEqual([]);
    for (const args of [['delete', 's1'], ['cancel', 's1'], ['show', 's1']]) {
      const r = lintel('subscriptions', ...args);
      expect([r.status, r.stderr], args.join(' ')).toEqual([1, 'no subscription with id "s1" (nothing changed)\n']);
    }

    const rows = audit(site.dir);
    expect(rows.map((a) => [a.action, a.target])).toEqual([
      ['subscription.create', 's1'],
      ['company.create', 'acme'],
      ['company.join', 'acme/cy@example.com'],
      ['subscription.create', 's2'],
      ['subscription.cancel', 's2'],
      ['subscription.cancel', 's1'],
      ['subscription.delete', 's1'],
    ]);
    expect(rows.every((a) => a.actor.startsWith('cli:'))).toBe(true);
  }, 60_000);

  it('list prints every page, not the first thousand', () => {
    expect(lintel('subscriptions', 'list').status).toBe(0); // the CLI makes the database first
    const ids = Array.from({ length: 1005 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    withDb(site.dir, (store) => {
      for (const id of ids) putSubscription(store, id, { subject: { email: 'dee@example.com' }, groups: ['staff'], startsAt: Date.parse(T0), endsAt: null, cancelledAt: null }, 'test', Date.now(), new Set(['staff']));
    });
    const r = lintel('subscriptions', 'list', '--email', 'dee@example.com', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id)).toEqual(ids);
  }, 60_000);
});
