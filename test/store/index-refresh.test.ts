import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import { readChangeMark } from '../../src/store/change-log.js';
import { neverWaitForLocks } from '../../src/store/db.js';
import { ExternalChangeWatch, type ExternalChangeWatchOptions } from '../../src/store/external-changes.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { loadIndex } from '../../src/store/index-loader.js';
import { RefreshReader, WORKER_MIN_PEOPLE, type RowsReader } from '../../src/store/index-refresh.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { testStore } from '../helpers/store.js';

/*
 * Larger external changes are read by a worker on its own connection (index-refresh.ts). What
 * the index ends up with must be what a fresh load from the same file gives, and a commit of the
 * gateway's own connection that lands while the worker's rows are on their way must win over them.
 */

const T0 = Date.parse('2026-12-04T10:00:00Z');
const PEOPLE = 3000;
const card = (i: number) => String(200_000 + i);

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function setup(extra: Partial<ExternalChangeWatchOptions> = {}, onSwap?: (fresh: AccessIndex) => void) {
  const s = testStore(['front', 'side']);
  cleanup.push(s.close);
  s.store.transact((tx) => {
    for (let i = 0; i < PEOPLE; i++) {
      const p = upsertPerson(tx, `w${i}@example.com`, null, T0);
      assignCredential(tx, p, card(i), 'decimal', 'active', T0);
      replaceSourceGrants(tx, 'staff', `import:w${i}`, [{ personId: p, doorId: 'front', validFrom: null, validTo: null }]);
    }
  });
  neverWaitForLocks(s.store.db);
  const failures: string[] = [];
  const watch = new ExternalChangeWatch({
    db: s.store.db,
    clock: new FakeClock(),
    logger: silentLogger,
    countFailure: (task) => void failures.push(task),
    index: () => s.index,
    swap: (fresh) => {
      if (!onSwap) throw new Error('no rebuild expected');
      onSwap(fresh);
    },
    from: readChangeMark(s.store.db),
    workerReads: true,
    ...extra,
  });
  // As background-tasks.ts wires it: the watcher hears which people this connection committed.
  s.store.onCommit((c) => watch.noteOwnCommit(c.people));
  cleanup.push(() => watch.stop());
  const other = new OtherProcess(s.store.db.name);
  cleanup.push(() => other.close());
  const personId = (email: string) => (s.store.db.prepare('SELECT id FROM people WHERE email = ?').get(email) as { id: number }).id;
  return { ...s, watch, other, failures, personId };
}

/** Every card's decision at both doors, as the index gives it. */
function decisions(index: AccessIndex, extraCards: string[] = []): string[] {
  const out: string[] = [];
  for (const number of [...Array.from({ length: PEOPLE }, (_, i) => card(i)), ...extraCards]) {
    for (const door of ['front', 'side']) {
      const d = decideCard(index, number, door, T0);
      out.push(`${number}@${door}:${d.result}:${d.reason}:${d.personId ?? '-'}`);
    }
  }
  return out;
}

/** One external commit touching many people: cards disabled, grants moved, people deleted and added. */
const bigChange = `
  UPDATE credentials SET state = 'disabled' WHERE CAST(number AS INTEGER) % 7 = 0;
  UPDATE grants SET door_id = 'side' WHERE person_id % 5 = 0;
  DELETE FROM people WHERE id % 11 = 0;
  INSERT INTO people (email, state, created_at, updated_at) VALUES ('new@example.com', 'active', 0, 0);
  INSERT INTO credentials (person_id, number, format, state, created_at, updated_at)
    SELECT id, '9990099', 'decimal', 'active', 0, 0 FROM people WHERE email = 'new@example.com';
`;

describe('external changes read on a worker', () => {
  it('give the index exactly what a fresh load of the same file gives', async () => {
    const ctx = setup();
    await ctx.other.exec(bigChange);
    await ctx.watch.poll();
    const stats = ctx.watch.stats();
    expect(stats.peopleRefreshed).toBeGreaterThan(1000);
    // All but a last chunk smaller than a worker round trip is worth went to the worker.
    expect(stats.workerPeople).toBeGreaterThanOrEqual(stats.peopleRefreshed - WORKER_MIN_PEOPLE);
    expect(ctx.failures).toEqual([]);
    const fresh = new AccessIndex();
    loadIndex(ctx.store.db, fresh);
    expect(decisions(ctx.index, ['9990099'])).toEqual(decisions(fresh, ['9990099']));
    expect(ctx.index.stats()).toEqual(fresh.stats());
  });

  it('a commit of the own connection between the worker read and the fill is not overwritten by the older rows', async () => {
    let inner: RefreshReader | null = null;
    let ownCommit: (() => void) | null = null;
    const stepping: RowsReader = {
      async read(ids, index) {
        const rows = await inner!.read(ids, index);
        ownCommit?.(); // lands after the worker's snapshot, before its rows are filled in
        return rows;
      },
      close: () => inner!.close(),
    };
    const ctx = setup({ rowsReader: stepping });
    inner = new RefreshReader(ctx.store.db.name);
    const victim = ctx.personId('w5@example.com');
    expect(victim).toBeLessThanOrEqual(WORKER_MIN_PEOPLE * 4); // one of the people the external change below touches
    ownCommit = () => ctx.store.transact((tx) => assignCredential(tx, victim, '7770001', 'decimal', 'active', T0));
    await ctx.other.exec(`UPDATE grants SET door_id = 'side' WHERE person_id <= ${WORKER_MIN_PEOPLE * 4}`);
    await ctx.watch.poll();
    expect(ctx.watch.stats().workerPeople).toBe(WORKER_MIN_PEOPLE * 4);
    // The own commit's card is in the index although the worker's rows (read before it) lack it.
    expect(decideCard(ctx.index, '7770001', 'side', T0)).toMatchObject({ result: 'granted', personId: victim });
    const fresh = new AccessIndex();
    loadIndex(ctx.store.db, fresh);
    expect(decisions(ctx.index, ['7770001'])).toEqual(decisions(fresh, ['7770001']));
  });

  it('a worker that fails costs nothing but time: the people are read on the main thread, the failure counted', async () => {
    const failing: RowsReader = { read: () => Promise.reject(new Error('worker gone')), close: async () => undefined };
    const ctx = setup({ rowsReader: failing });
    await ctx.other.exec(bigChange);
    await ctx.watch.poll();
    expect(ctx.failures.length).toBeGreaterThanOrEqual(1); // one a chunk
    expect(new Set(ctx.failures)).toEqual(new Set(['index-refresh-worker']));
    expect(ctx.watch.stats().workerPeople).toBe(0);
    const fresh = new AccessIndex();
    loadIndex(ctx.store.db, fresh);
    expect(decisions(ctx.index, ['9990099'])).toEqual(decisions(fresh, ['9990099']));
  });

  it('a worker that cannot open its database rejects the read instead of taking the process down', async () => {
    const reader = new RefreshReader('/nonexistent/lintel.db');
    cleanup.push(() => reader.close());
    await expect(reader.read([1, 2, 3], new AccessIndex())).rejects.toThrow(/index refresh worker|unable to open|directory does not exist/i);
  });

  it('small changes stay on the main thread (a round trip to the worker costs more)', async () => {
    const ctx = setup();
    await ctx.other.exec(`UPDATE credentials SET state = 'lost' WHERE person_id <= ${WORKER_MIN_PEOPLE - 1}`);
    await ctx.watch.poll();
    expect(ctx.watch.stats()).toMatchObject({ peopleRefreshed: WORKER_MIN_PEOPLE - 1, workerPeople: 0 });
    expect(decideCard(ctx.index, card(0), 'front', T0).reason).toBe('credential_lost');
  });

  it('a rebuild reads every person on the load worker, fills a few a step, and catches up own commits made during it', async () => {
    let live: AccessIndex | null = null;
    // Every look at the clock finds the slice spent: each step of the fill is its own macrotask.
    let t = 0;
    const ctx = setup({ sliceMs: 1, now: () => (t += 1) }, (fresh) => (live = fresh));
    let ownDone = false;
    let turns = 0;
    const probe = () => {
      turns++;
      // Some way into the load: a commit of the own connection, which the worker's snapshot may lack.
      if (turns === 50 && !ownDone) {
        ctx.store.transact((tx) => assignCredential(tx, ctx.personId('w7@example.com'), '7770007', 'decimal', 'active', T0));
        ownDone = true;
      }
      if (live === null) setImmediate(probe);
    };
    setImmediate(probe);
    ctx.watch.rebuildSoon();
    await ctx.watch.poll();
    expect(live).not.toBeNull();
    expect(ownDone).toBe(true);
    expect(ctx.watch.stats()).toMatchObject({ rebuilds: 1, workerRebuilds: 1 });
    expect(ctx.watch.stats().slices).toBeGreaterThanOrEqual(PEOPLE / 4); // a few people a macrotask
    expect(ctx.failures).toEqual([]);
    const fresh = new AccessIndex();
    loadIndex(ctx.store.db, fresh);
    expect(decisions(live!, ['7770007'])).toEqual(decisions(fresh, ['7770007']));
    expect(decideCard(live!, '7770007', 'front', T0).result).toBe('granted');
  });
});
