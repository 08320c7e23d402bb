import { afterEach, describe, expect, it, vi } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import { neverWaitForLocks } from '../../src/store/db.js';
import { pruneChangeLog, readChangeMark } from '../../src/store/change-log.js';
import { ExternalChangeWatch, SOON_MS } from '../../src/store/external-changes.js';
import { LoopSlice, PEOPLE_PER_STEP } from '../../src/store/index-rebuild.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { testStore } from '../helpers/store.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const PEOPLE = 5000;

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A clock the watcher reads for its slices: moves only when the test says. */
function steppedClock(stepMs: number) {
  let t = 0;
  return () => (t += stepMs);
}

function setup(slicing: { sliceMs?: number; now?: () => number } = {}) {
  const s = testStore(['front']);
  cleanup.push(s.close);
  s.store.transact((tx) => {
    for (let i = 0; i < PEOPLE; i++) {
      const p = upsertPerson(tx, `p${i}@example.com`, null, T0);
      assignCredential(tx, p, String(100_000 + i), 'decimal', 'active', T0);
      replaceSourceGrants(tx, 'staff', `import:p${i}`, [{ personId: p, doorId: 'front', validFrom: null, validTo: null }]);
    }
  });
  neverWaitForLocks(s.store.db);
  let live = s.index;
  const swaps: AccessIndex[] = [];
  const clock = new FakeClock();
  const watch = new ExternalChangeWatch({
    db: s.store.db,
    clock,
    logger: silentLogger,
    index: () => live,
    swap: (fresh) => {
      swaps.push(fresh);
      live = fresh;
    },
    from: readChangeMark(s.store.db),
    ...slicing,
  });
  const other = new OtherProcess(s.store.db.name);
  cleanup.push(() => other.close());
  return { ...s, watch, other, swaps, clock, live: () => live };
}

const personId = (db: ReturnType<typeof setup>['store']['db'], email: string) =>
  (db.prepare('SELECT id FROM people WHERE email = ?').get(email) as { id: number }).id;

describe('LoopSlice', () => {
  it('yields only once its budget is spent, then starts a new slice', async () => {
    let t = 0;
    const slice = new LoopSlice(2, () => t);
    await slice.pace();
    t = 1.9;
    await slice.pace();
    expect(slice.slices).toBe(1);
    t = 2;
    let yielded = false;
    setImmediate(() => (yielded = true));
    await slice.pace();
    expect(yielded).toBe(true); // the loop ran other work before the job went on
    expect(slice.slices).toBe(2);
    t = 3.9; // 1.9 ms into the new slice
    await slice.pace();
    expect(slice.slices).toBe(2);
  });
});

describe('commits by another process reach the running index incrementally', () => {
  it('a one-row change refreshes one person, not the whole index', async () => {
    const ctx = setup();
    const id = personId(ctx.store.db, 'p42@example.com');
    expect(decideCard(ctx.live(), '9990001', 'front', T0).result).toBe('denied');
    await ctx.other.exec(`INSERT INTO credentials (person_id, number, format, state, created_at, updated_at) VALUES (${id}, '9990001', 'decimal', 'active', 0, 0)`);
    await ctx.watch.poll();
    expect(decideCard(ctx.live(), '9990001', 'front', T0)).toMatchObject({ result: 'granted', personId: id });
    expect(ctx.watch.stats()).toMatchObject({ externalCommits: 1, peopleRefreshed: 1, rebuilds: 0 });
    expect(ctx.swaps).toHaveLength(0);
  });

  it('own commits are already applied: the watcher only moves its mark', async () => {
    const ctx = setup();
    ctx.store.transact((tx) => assignCredential(tx, personId(ctx.store.db, 'p1@example.com'), '9990002', 'decimal', 'active', T0));
    await ctx.watch.poll();
    expect(ctx.watch.stats()).toMatchObject({ externalCommits: 0, peopleRefreshed: 0, rebuilds: 0 });
    expect(ctx.watch.appliedSeq()).toBe(readChangeMark(ctx.store.db).seq);
  });

  it('a large external import is applied in slices of loop time, yielding to the event loop between them', async () => {
    // Every look at the clock finds a whole slice spent: the watcher must yield after every step.
    const ctx = setup({ sliceMs: 1, now: steppedClock(1) });
    // Every person loses their grant in one external commit (as a re-import with no doors would).
    await ctx.other.exec(`DELETE FROM grants WHERE person_id IN (SELECT id FROM people WHERE email LIKE 'p%' AND CAST(substr(email, 2, instr(email, '@') - 2) AS INTEGER) < 2500)`);
    let ranDuringPoll = 0;
    let done = false;
    const poll = ctx.watch.poll().then(() => (done = true));
    const probe = () => {
      if (done) return;
      ranDuringPoll++;
      setImmediate(probe);
    };
    setImmediate(probe);
    await poll;
    expect(ctx.watch.stats()).toMatchObject({ peopleRefreshed: 2500, rebuilds: 0 });
    expect(ranDuringPoll).toBeGreaterThanOrEqual(1); // 0 if the whole import ran in one macrotask
    expect(ctx.watch.stats().slices).toBeGreaterThanOrEqual(2500 / PEOPLE_PER_STEP);
    expect(decideCard(ctx.live(), String(100_000 + 10), 'front', T0).result).toBe('denied');
    expect(decideCard(ctx.live(), String(100_000 + 2600), 'front', T0).result).toBe('granted');
  });

  it('a slice ends on time spent, not on a count of people: with no time passing, one macrotask applies it all', async () => {
    const ctx = setup({ sliceMs: 1, now: () => 0 });
    await ctx.other.exec(`DELETE FROM grants WHERE person_id IN (SELECT id FROM people WHERE email LIKE 'p1%')`);
    await ctx.watch.poll();
    expect(ctx.watch.stats()).toMatchObject({ peopleRefreshed: 1111, slices: 1 });
    expect(decideCard(ctx.live(), String(100_000 + 1234), 'front', T0).result).toBe('denied');
  });

  it('pollSoon (the upstream thread committed) applies the change within SOON_MS, not at the next tick', async () => {
    const ctx = setup();
    ctx.watch.start();
    cleanup.push(() => ctx.watch.stop());
    const id = personId(ctx.store.db, 'p43@example.com');
    await ctx.other.exec(`INSERT INTO credentials (person_id, number, format, state, created_at, updated_at) VALUES (${id}, '9990003', 'decimal', 'active', 0, 0)`);
    ctx.watch.pollSoon();
    ctx.watch.pollSoon(); // coalesced: one timer
    ctx.clock.advance(SOON_MS);
    await vi.waitFor(() => expect(decideCard(ctx.live(), '9990003', 'front', T0).result).toBe('granted'));
    expect(ctx.watch.stats()).toMatchObject({ polls: 1, externalCommits: 1, peopleRefreshed: 1 });
  });

  it('waitApplied answers a writer when the poll that applied its commit moved the mark, or at its bound', async () => {
    const ctx = setup();
    const id = personId(ctx.store.db, 'p44@example.com');
    await ctx.other.exec(`INSERT INTO credentials (person_id, number, format, state, created_at, updated_at) VALUES (${id}, '9990004', 'decimal', 'active', 0, 0)`);
    const target = readChangeMark(ctx.store.db).seq;
    let answered: boolean | null = null;
    const waiting = ctx.watch.waitApplied(target, 2_000).then((applied) => (answered = applied));
    await Promise.resolve();
    expect(answered).toBeNull();
    await ctx.watch.poll();
    expect(await waiting).toBe(true);
    // The index has the card by the time the writer is answered.
    expect(decideCard(ctx.live(), '9990004', 'front', T0).result).toBe('granted');
    // Already applied: at once. Never applied: false at the bound, on the injected clock.
    expect(await ctx.watch.waitApplied(target, 2_000)).toBe(true);
    const never = ctx.watch.waitApplied(target + 1_000, 2_000);
    ctx.clock.advance(2_000);
    expect(await never).toBe(false);
  });

  it('polls asked for while one runs (timer and pollSoon) never apply the same entries twice', async () => {
    const ctx = setup({ sliceMs: 1, now: steppedClock(1) });
    await ctx.other.exec(`DELETE FROM grants WHERE person_id IN (SELECT id FROM people WHERE email LIKE 'p2%')`);
    await Promise.all([ctx.watch.poll(), ctx.watch.poll(), ctx.watch.poll()]);
    // One poll applied the 1,111 people; the one asked for meanwhile found the mark moved.
    expect(ctx.watch.stats()).toMatchObject({ polls: 2, externalCommits: 1, peopleRefreshed: 1111 });
  });

  it('rebuildSoon (a listener failed after our own commit) rebuilds and swaps although no one else committed', async () => {
    const ctx = setup();
    ctx.watch.start();
    cleanup.push(() => ctx.watch.stop());
    const before = ctx.live();
    ctx.watch.rebuildSoon();
    ctx.clock.advance(SOON_MS);
    // Rebuilding 5,000 people in slices takes ~0.5 s alone and seconds on a loaded box: wait for it, not 1 s.
    await vi.waitFor(() => expect(ctx.swaps).toHaveLength(1), { timeout: 30_000 });
    expect(ctx.live()).not.toBe(before);
    expect(ctx.live().stats()).toEqual(before.stats());
    expect(ctx.watch.stats().rebuilds).toBe(1);
  });

  it('a hole in the log (pruned by someone else) rebuilds beside the live index and swaps it in', async () => {
    const ctx = setup();
    const id = personId(ctx.store.db, 'p7@example.com');
    await ctx.other.exec(`UPDATE people SET state = 'suspended' WHERE id = ${id}; DELETE FROM change_log;`);
    const before = ctx.live();
    await ctx.watch.poll();
    expect(ctx.watch.stats().rebuilds).toBe(1);
    expect(ctx.swaps).toHaveLength(1);
    expect(ctx.live()).not.toBe(before);
    expect(decideCard(ctx.live(), String(100_007), 'front', T0).reason).toBe('person_suspended');
    expect(ctx.live().stats()).toEqual(before.stats());
  });

  it('housekeeping prunes only what was applied; the next external change is still incremental', async () => {
    const ctx = setup();
    await ctx.watch.poll();
    expect(pruneChangeLog(ctx.store.db, ctx.watch.appliedSeq())).toBeGreaterThan(0);
    await ctx.other.exec(`UPDATE credentials SET state = 'lost' WHERE number = '100003'`);
    await ctx.watch.poll();
    expect(ctx.watch.stats()).toMatchObject({ peopleRefreshed: 1, rebuilds: 0 });
    expect(decideCard(ctx.live(), '100003', 'front', T0).reason).toBe('credential_lost');
  });
});
