import type { Clock, Timer } from '../util/clock.js';
import type { Db } from './db.js';

/**
 * SQLite bumps `PRAGMA data_version` on a connection when *another* connection commits.
 * Polling it is cheap (no I/O beyond a shared-memory read in WAL mode) and lets the CLI write
 * to the live database while the running gateway picks the change up within one interval.
 */
export function watchExternalCommits(db: Db, clock: Clock, onChange: () => void, everyMs = 1000): Timer {
  let last = db.pragma('data_version', { simple: true }) as number;
  return clock.setInterval(() => {
    if (!db.open) return;
    const now = db.pragma('data_version', { simple: true }) as number;
    if (now !== last) {
      last = now;
      onChange();
    }
  }, everyMs);
}
