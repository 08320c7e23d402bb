import { afterEach, describe, expect, it } from 'vitest';
import { neverWaitForLocks } from '../../src/store/db.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { RETAIN_ENDED_MS, startHousekeeping } from '../../src/store/housekeeping.js';
import { upsertPerson } from '../../src/store/people.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { testStore } from '../helpers/store.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('housekeeping while another process holds the write lock', () => {
  it('meets SQLITE_BUSY without throwing, counts it, and prunes once the lock is free', async () => {
    const s = testStore(['front']);
    cleanup.push(s.close);
    const clock = new FakeClock();
    const T0 = clock.now();
    s.store.transact((tx) => {
      const p = upsertPerson(tx, 'a@e.com', null, T0);
      replaceSourceGrants(tx, 'booking', 'old', [{ personId: p, doorId: 'front', validFrom: 0, validTo: T0 - RETAIN_ENDED_MS - 1 }]);
    });
    neverWaitForLocks(s.store.db);
    const other = new OtherProcess(s.store.db.name);
    cleanup.push(() => other.close());
    await other.lock();

    const failures: string[] = [];
    const timer = startHousekeeping({ store: s.store, clock, logger: silentLogger, countFailure: (t) => void failures.push(t), everyMs: 3_600_000 });
    cleanup.push(() => timer.cancel());
    expect(() => clock.advance(3_600_000)).not.toThrow();
    expect(failures).toEqual(['housekeeping']);
    expect(s.index.stats().grants).toBe(1);

    await other.release();
    clock.advance(2_000); // the retry comes well before the next hour
    expect(s.index.stats().grants).toBe(0);
    expect(failures).toEqual(['housekeeping']);
  });
});
