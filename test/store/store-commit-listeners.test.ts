import { afterEach, describe, expect, it } from 'vitest';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import type { Tx } from '../../src/store/store.js';
import { heardCommits, testStore } from '../helpers/store.js';

/*
 * Store.transact is the single write path and the index hears of every commit through it:
 * nested writes are told once, when the outer transaction commits, and a listener that throws
 * neither hides the commit from the others nor makes the writer believe nothing was written.
 */

const T0 = Date.parse('2026-12-02T10:00:00Z');
let nextCard = 1000;
/** A person with a card: a change the index cares about (change_log rows of people and credentials). */
const person = (tx: Tx, email: string) => {
  const id = upsertPerson(tx, email, null, T0);
  assignCredential(tx, id, String(nextCard++), 'decimal', 'active', T0);
  return id;
};
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function setup() {
  const s = testStore(['front']);
  cleanup.push(s.close);
  const heard = heardCommits(s.store);
  const count = () => (s.store.db.prepare('SELECT count(*) AS n FROM people').get() as { n: number }).n;
  return { ...s, heard, count };
}

describe('Store.transact and its commit listeners', () => {
  it('a nested transact is told with the outer commit, once, with everything both touched', () => {
    const ctx = setup();
    ctx.store.transact((tx) => {
      const a = person(tx, 'a@example.com');
      ctx.store.transact((inner) => void person(inner, 'b@example.com'));
      expect(ctx.heard).toHaveLength(0); // the outer may still roll back
      return a;
    });
    expect(ctx.heard).toHaveLength(1);
    expect(ctx.heard[0]!.people.size).toBe(2);
  });

  it('an outer rollback after a nested write tells nobody: the index never sees a write that did not happen', () => {
    const ctx = setup();
    expect(() =>
      ctx.store.transact((tx) => {
        ctx.store.transact((inner) => void person(inner, 'c@example.com'));
        void tx;
        throw new Error('refused later in the same transaction');
      }),
    ).toThrow('refused later');
    expect(ctx.heard).toHaveLength(0);
    expect(ctx.count()).toBe(0);
    expect(ctx.index.stats().people).toBe(0);
  });

  it('a listener that throws: the others still hear, the handler gets the error, the writer gets its result', () => {
    const ctx = setup();
    const failures: unknown[] = [];
    const again = new Set<number>();
    ctx.store.onCommit(() => {
      throw new Error('index refresh broke');
    });
    ctx.store.onCommit((c) => c.people.forEach((p) => again.add(p)));
    ctx.store.onListenerError((err) => failures.push(err));
    const id = ctx.store.transact((tx) => person(tx, 'd@example.com'));
    expect(typeof id).toBe('number');
    expect(ctx.count()).toBe(1);
    expect([...again]).toEqual([id]);
    expect(failures.map((e) => (e as Error).message)).toEqual(['index refresh broke']);
  });

  it('without a handler the failure reaches the writer, after every listener ran and the commit stands', () => {
    const ctx = setup();
    let later = 0;
    ctx.store.onCommit(() => {
      throw new Error('boom');
    });
    ctx.store.onCommit(() => void later++);
    expect(() => ctx.store.transact((tx) => person(tx, 'e@example.com'))).toThrow('boom');
    expect(later).toBe(1);
    expect(ctx.count()).toBe(1);
  });
});
