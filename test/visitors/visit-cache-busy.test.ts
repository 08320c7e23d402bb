import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { neverWaitForLocks, openDatabase } from '../../src/store/db.js';
import { VisitCache } from '../../src/store/visit-cache.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const visit = { visitId: 'VIS-1', status: 'checked_in' as const, validFrom: T0 - 1, validTo: T0 + 3_600_000, visitorEmail: null, hostEmail: null };

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/* The gateway's connection never waits for a lock: a cache write must not turn a visitor's live answer into a denial. */
describe('visit cache while another process holds the write lock', () => {
  it('a put that meets the lock is skipped; a forget that meets it still hides the answer, and is retried', async () => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'lintel.db'));
    cleanup.push(() => db.close(), t.cleanup);
    neverWaitForLocks(db);
    const cache = new VisitCache(db);
    cache.put('V1', visit, T0);
    const other = new OtherProcess(join(t.dir, 'lintel.db'));
    cleanup.push(() => other.close());
    await other.lock();
    expect(() => cache.put('V2', visit, T0)).not.toThrow();
    expect(() => cache.forget('V1')).not.toThrow();
    // Fail closed: the platform said the code is unknown, so the old answer must not grant offline.
    expect(cache.get('V1', T0)).toBeUndefined();
    await other.release();
    cache.put('V2', visit, T0);
    expect(cache.get('V2', T0)?.visitId).toBe('VIS-1');
    expect(db.prepare('SELECT count(*) AS n FROM visits').get()).toEqual({ n: 1 }); // V1's delete went through
  });
});
