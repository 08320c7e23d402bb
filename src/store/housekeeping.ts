import type { Clock, Timer } from '../util/clock.js';
import { guardedInterval, type FailureCounter } from '../util/guarded.js';
import type { Logger } from '../util/log.js';
import { pruneAppointmentsEndedBefore } from './appointments.js';
import type { Store } from './store.js';

/** Grants and appointments that ended this long ago can no longer open anything or be moved back. */
export const RETAIN_ENDED_MS = 7 * 86_400_000;

export const HOUSEKEEPING_EVERY_MS = 3_600_000;

/**
 * Drops grants and appointments that ended more than RETAIN_ENDED_MS ago, in one transaction,
 * so neither SQLite nor the in-memory index grows with every booking ever made. The audit log
 * keeps the history of what was decided. Re-runnable, so a lost commit (power) costs nothing:
 * committed with synchronous=NORMAL.
 */
export function pruneEnded(store: Store, now: number): { grants: number; appointments: number } {
  const cutoff = now - RETAIN_ENDED_MS;
  return store.transact(
    (tx) => {
      const grants = tx.grants.pruneEndedBefore(cutoff);
      const appointments = pruneAppointmentsEndedBefore(tx, cutoff);
      return { grants, appointments };
    },
    { durability: 'normal' },
  );
}

export interface HousekeepingOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  countFailure?: FailureCounter;
  everyMs?: number;
  /** Further pruning on the same schedule (the change log behind the external-change watch). */
  extra?: Array<() => void>;
}

/**
 * The hourly pruning, guarded: another process holding the write lock makes it fail with
 * SQLITE_BUSY (the main connection never waits), which is logged, counted under
 * `housekeeping` and retried with backoff, well before the next hour.
 */
export function startHousekeeping(opts: HousekeepingOptions): Timer {
  const { store, clock, logger } = opts;
  return guardedInterval(
    'housekeeping',
    () => {
      const pruned = pruneEnded(store, clock.now());
      if (pruned.grants + pruned.appointments > 0) logger.info(pruned, 'pruned ended grants and appointments');
      for (const task of opts.extra ?? []) task();
    },
    { clock, everyMs: opts.everyMs ?? HOUSEKEEPING_EVERY_MS, logger, countFailure: opts.countFailure },
  );
}
