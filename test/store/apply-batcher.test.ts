import { afterEach, describe, expect, it } from 'vitest';
import { upsertPerson } from '../../src/store/people.js';
import { ApplyBatcher } from '../../src/store/apply-batcher.js';
import { testStore } from '../helpers/store.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

function setup(slice: { ms?: number; now?: () => number }) {
  const s = testStore(['front']);
  cleanup.push(s.close);
  return { ...s, batcher: new ApplyBatcher(s.store, slice) };
}

const emails = (db: ReturnType<typeof setup>['store']['db']) =>
  (db.prepare('SELECT email FROM people ORDER BY id').all() as { email: string }[]).map((r) => r.email);

describe('ApplyBatcher', () => {
  it('jobs of one turn share one transaction while the loop time allows', async () => {
    const ctx = setup({ ms: 1, now: () => 0 });
    const ids = await Promise.all(['a', 'b', 'c'].map((n) => ctx.batcher.apply((tx) => upsertPerson(tx, `${n}@example.com`, null, T0))));
    expect(ids).toHaveLength(3);
    expect(ctx.batcher.commits).toBe(1);
  });

  it('a turn whose jobs outlast the slice commits what ran and goes on in the next macrotask, in order', async () => {
    // Every look at the clock finds the slice spent: one job per transaction.
    let t = 0;
    const ctx = setup({ ms: 1, now: () => (t += 1) });
    let otherWork = 0;
    let done = false;
    const probe = () => {
      if (done) return;
      otherWork++;
      setImmediate(probe);
    };
    setImmediate(probe);
    const names = ['a', 'b', 'c', 'd'];
    const failing = expect(
      ctx.batcher.apply(() => {
        throw new Error('bad list');
      }),
    ).rejects.toThrow('bad list'); // rejected alone, as before
    const ids = await Promise.all(names.map((n) => ctx.batcher.apply((tx) => upsertPerson(tx, `${n}@example.com`, null, T0))));
    done = true;
    await failing;
    expect(ctx.batcher.commits).toBe(5);
    expect(otherWork).toBeGreaterThanOrEqual(3); // the loop ran other work between the commits
    expect(emails(ctx.store.db)).toEqual(names.map((n) => `${n}@example.com`));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  });
});
