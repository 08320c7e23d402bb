import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ApplyBatcher } from '../../src/store/apply-batcher.js';
import { upsertPerson } from '../../src/store/people.js';
import type { Store } from '../../src/store/store.js';
import { openUpstreamThreadStore } from '../../src/upstream/worker/thread-store.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The upstream thread's connection keeps savepoint journals in memory. A savepoint that changed
 * far more than the 64 KiB SQLite keeps in memory by default must still roll back alone, with the
 * batch's other jobs committed, after a reopen (a real file, not :memory:).
 */

const T0 = Date.parse('2026-12-04T10:00:00Z');
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function open(dir: string): Store {
  const config = parseConfig({ site: { id: 'thr' }, dataDir: join(dir, 'data'), doors: [{ id: 'door-1' }] });
  const store = openUpstreamThreadStore(config);
  cleanups.push(() => store.close());
  return store;
}

const count = (store: Store, like: string): number => store.db.prepare('SELECT count(*) FROM people WHERE email LIKE ?').pluck().get(like) as number;

describe('openUpstreamThreadStore', () => {
  it('keeps temporary files, savepoint journals among them, in memory', () => {
    const tmp = tempDir('lintel-thread-store-');
    cleanups.push(tmp.cleanup);
    expect(open(tmp.dir).db.pragma('temp_store', { simple: true })).toBe(2); // 2 = MEMORY
  });

  it('a batch job that changed hundreds of pages and then threw rolls back alone; the others commit', async () => {
    const tmp = tempDir('lintel-thread-store-');
    cleanups.push(tmp.cleanup);
    const store = open(tmp.dir);
    // Pages that exist before the batch: a savepoint journals the originals of those it changes.
    store.transact((tx) => {
      for (let i = 0; i < 2000; i++) upsertPerson(tx, `old-${i}@example.com`, 'x'.repeat(200), T0);
    });
    const batcher = new ApplyBatcher(store, { now: () => 0 });
    const kept = batcher.apply((tx) => upsertPerson(tx, 'kept@example.com', null, T0));
    const failed = batcher.apply((tx) => {
      tx.db.prepare("UPDATE people SET name = ? WHERE email LIKE 'old-%'").run('y'.repeat(200));
      upsertPerson(tx, 'lost@example.com', null, T0);
      throw new Error('bad list');
    });
    const after = batcher.apply((tx) => upsertPerson(tx, 'after@example.com', null, T0));
    await expect(failed).rejects.toThrow('bad list');
    await Promise.all([kept, after]);
    expect(batcher.commits).toBe(1); // all three in one transaction: the rollback was the savepoint's
    store.close();
    const reopened = open(tmp.dir);
    expect(count(reopened, 'kept@%') + count(reopened, 'after@%')).toBe(2);
    expect(count(reopened, 'lost@%')).toBe(0);
    const names = reopened.db.prepare("SELECT DISTINCT name FROM people WHERE email LIKE 'old-%'").pluck().all();
    expect(names).toEqual(['x'.repeat(200)]);
  });
});
