import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { lockdownStatus, switchLockdown } from '../../src/store/site-admin.js';
import { Store } from '../../src/store/store.js';
import { heardCommits, testStore } from '../helpers/store.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Store.transact tells its listeners what the transaction's own change_log rows name (migration
 * 6 and 11's triggers), so a writer cannot forget to: raw SQL is heard like a repository call,
 * memberships and site flags included, and another connection's commits are not mistaken for ours.
 */

const T0 = Date.parse('2026-12-02T10:00:00Z');
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function setup() {
  const s = testStore(['front']);
  cleanup.push(s.close);
  const heard = heardCommits(s.store);
  return { ...s, heard };
}

describe('what a commit touched comes from its change_log rows', () => {
  it('a raw SQL write that names no repository is heard, with every person it touched', () => {
    const ctx = setup();
    const [a, b] = ctx.store.transact((tx) => [tx.people.upsert('a@example.com', null, T0), tx.people.upsert('b@example.com', null, T0)]);
    ctx.heard.length = 0;
    ctx.store.transact((tx) => void tx.db.prepare("UPDATE people SET state = 'suspended'").run());
    expect(ctx.heard).toEqual([{ people: new Set([a, b]), doors: false }]);
    expect(ctx.index.person(a!)?.active).toBe(false);
  });

  it('a transaction that writes nothing the index reads tells nobody; an unchanged upsert writes nothing', () => {
    const ctx = setup();
    ctx.store.transact((tx) => tx.people.upsert('a@example.com', 'Ana', T0));
    ctx.heard.length = 0;
    ctx.store.transact((tx) => {
      tx.people.upsert('a@example.com', 'Ana', T0);
      tx.db.prepare("INSERT INTO webhook_events (webhook_id, received_at) VALUES ('w1', 1)").run();
    });
    expect(ctx.heard).toEqual([]);
  });

  it('memberships reach the person, site flags the site-wide part', () => {
    const ctx = setup();
    const id = ctx.store.transact((tx) => tx.people.upsert('a@example.com', null, T0));
    ctx.heard.length = 0;
    ctx.store.transact((tx) => tx.groups.replace(id, 'staff', 'import:a@example.com', [{ group: 'staff', validFrom: null, validTo: null }]));
    ctx.store.transact((tx) => void tx.site.setLockdown(true, T0, 'test'));
    expect(ctx.heard).toEqual([
      { people: new Set([id]), doors: false },
      { people: new Set(), doors: true },
    ]);
  });

  it("another connection's commit between two of ours is not reported as ours", () => {
    const ctx = setup();
    const other = new Database(ctx.store.db.name);
    cleanup.push(() => other.close());
    other.prepare("INSERT INTO people (email, created_at, updated_at) VALUES ('x@example.com', 1, 1)").run();
    const mine = ctx.store.transact((tx) => tx.people.upsert('me@example.com', null, T0));
    expect(ctx.heard.at(-1)).toEqual({ people: new Set([mine]), doors: false });
  });

  it('a failed savepoint inside a transaction is not heard, the rest of the transaction is', () => {
    const ctx = setup();
    const kept = ctx.store.transact((tx) => {
      const id = tx.people.upsert('kept@example.com', null, T0);
      expect(() =>
        tx.savepoint(() => {
          tx.people.upsert('gone@example.com', null, T0);
          throw new Error('refused');
        }),
      ).toThrow('refused');
      return id;
    });
    expect(ctx.heard).toEqual([{ people: new Set([kept]), doors: false }]);
  });
});

describe('lockdown in site_state', () => {
  it('records who switched it and when; switching to the same state writes nothing', () => {
    const ctx = setup();
    expect(lockdownStatus(ctx.store)).toEqual({ on: false, updatedAt: null, updatedBy: null });
    expect(switchLockdown(ctx.store, true, T0, 'cli:ana')).toEqual({ on: true, updatedAt: T0, updatedBy: 'cli:ana', changed: true });
    expect(switchLockdown(ctx.store, true, T0 + 5, 'cli:ben')).toEqual({ on: true, updatedAt: T0, updatedBy: 'cli:ana', changed: false });
    expect(switchLockdown(ctx.store, false, T0 + 9, 'cli:ben')).toMatchObject({ on: false, updatedAt: T0 + 9, updatedBy: 'cli:ben', changed: true });
    expect(ctx.heard.filter((c) => c.doors)).toHaveLength(2);
  });

  it("another process's switch lands in change_log as a site-wide change the gateway's watcher applies", () => {
    const ctx = setup();
    const cli = new Store(openDatabase(ctx.store.db.name));
    cleanup.push(() => cli.close());
    const before = ctx.store.db.prepare('SELECT max(seq) FROM change_log').pluck().get() as number;
    switchLockdown(cli, true, T0, 'cli:ana');
    expect(ctx.store.db.prepare('SELECT person_id, doors FROM change_log WHERE seq > ?').all(before)).toEqual([{ person_id: null, doors: 1 }]);
    expect(lockdownStatus(ctx.store).on).toBe(true);
  });
});

describe('migration 11', () => {
  it('keeps a version-10 database and its people: validity open, no memberships, lockdown off', () => {
    const t = tempDir();
    cleanup.push(t.cleanup);
    const file = join(t.dir, 'lintel.db');
    const db = openDatabase(file, migrations.filter((m) => m.version <= 10));
    db.prepare("INSERT INTO people (email, created_at, updated_at) VALUES ('old@example.com', 1, 1)").run();
    migrate(db, migrations.filter((m) => m.version <= 11), () => T0);
    expect(db.pragma('user_version', { simple: true })).toBe(11);
    expect(db.prepare('SELECT valid_from, valid_to FROM people').get()).toEqual({ valid_from: null, valid_to: null });
    expect(db.prepare('SELECT count(*) FROM person_groups').pluck().get()).toBe(0);
    expect(lockdownStatus({ db }).on).toBe(false);
    // One membership per person, group and source item.
    const id = db.prepare('SELECT id FROM people').pluck().get() as number;
    const insert = db.prepare("INSERT INTO person_groups (person_id, group_id, source, source_id) VALUES (?, 'staff', 'api', 'k1')");
    insert.run(id);
    expect(() => insert.run(id)).toThrow(/UNIQUE/);
    db.close();
  });
});
