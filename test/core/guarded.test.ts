import { describe, expect, it } from 'vitest';
import { guardedInterval, runGuarded } from '../../src/util/guarded.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('guarded background work', () => {
  it('runGuarded turns a throw and a rejection into a counted failure', async () => {
    const failed: string[] = [];
    const deps = { logger: silentLogger, countFailure: (t: string) => void failed.push(t) };
    expect(await runGuarded('sync', () => { throw new Error('SQLITE_BUSY'); }, deps)).toBe(false);
    expect(await runGuarded('async', () => Promise.reject(new Error('boom')), deps)).toBe(false);
    expect(await runGuarded('fine', () => undefined, deps)).toBe(true);
    expect(failed).toEqual(['sync', 'async']);
  });

  it('guardedInterval retries a failed run with backoff before the next period, then returns to the period', async () => {
    const clock = new FakeClock(0);
    const runs: number[] = [];
    let failuresLeft = 2;
    const timer = guardedInterval(
      'housekeeping',
      () => {
        runs.push(clock.now());
        if (failuresLeft-- > 0) throw new Error('SQLITE_BUSY');
      },
      { clock, everyMs: 3_600_000, retryBaseMs: 1000, logger: silentLogger },
    );
    clock.advance(3_600_000);
    expect(runs).toEqual([3_600_000]);
    clock.advance(5_000); // two retries, ~1 s and ~2 s later (±20 % jitter)
    expect(runs.length).toBe(3);
    expect(runs[2]! - runs[0]!).toBeLessThan(5_000);
    clock.advance(3_600_000);
    expect(runs.length).toBe(4);
    timer.cancel();
    clock.advance(10 * 3_600_000);
    expect(runs.length).toBe(4);
  });
});
