import { AccessIndex } from './access/access-index.js';
import type { Config } from './config/schema.js';
import { sitePaths } from './config/site-paths.js';
import { pruneAudit } from './store/audit-retention.js';
import { pruneChangeLog, type ChangeMark } from './store/change-log.js';
import { ExternalChangeWatch } from './store/external-changes.js';
import { HOUSEKEEPING_EVERY_MS, startHousekeeping } from './store/housekeeping.js';
import type { Store } from './store/store.js';
import type { Clock, Timer } from './util/clock.js';
import { guardedInterval, type FailureCounter } from './util/guarded.js';
import type { Logger } from './util/log.js';

/** How often the files of a faulted link are read again. */
export const LINK_FILE_RETRY_MS = 2000;

export interface BackgroundDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  countFailure: FailureCounter;
  /** Read at each run: a reload may have changed the retention. */
  config: () => Config;
  /** The index decisions read now, how to replace it after a rebuild, and how to make a new one. */
  index: () => AccessIndex;
  swapIndex: (fresh: AccessIndex) => void;
  newIndex: () => AccessIndex;
  /** Another process changed the site-wide part (lockdown): the access part re-reads it. */
  siteChanged?: () => void;
  /** The change-log mark taken before the index was loaded. */
  changeMark: ChangeMark;
  /** Re-reads the files of faulted links (password, token, TLS). */
  retryLinkFiles: () => Promise<void>;
}

/**
 * Everything the gateway does on a timer beside the badge path: applying other processes'
 * commits, hourly pruning, audit retention and re-reading faulted link files. Each runs through
 * guardedInterval, so a failure (SQLITE_BUSY from a backup script, a full disk) is logged,
 * counted under its task name and retried; none can end the process or wait on the badge path.
 */
export interface BackgroundTasks {
  stop(): void;
  /** A thread of ours (the upstream thread) committed: apply change_log now rather than at the next tick. */
  /** Another connection of ours committed: read the change log in `delayMs` (default: a few ms, to gather follow-ups). */
  changesCommitted(delayMs?: number): void;
  /** The live index may have missed a change: rebuild it beside the live one and swap. */
  rebuildIndex(): void;
  /** The change-log position the index has applied everything up to (for the stop's index snapshot). */
  appliedSeq(): number;
  /** Resolves when the index has applied the log up to `seq` (true) or after `ms` (false). */
  waitApplied(seq: number, ms: number): Promise<boolean>;
}

export function startBackgroundTasks(deps: BackgroundDeps): BackgroundTasks {
  const { store, clock, countFailure } = deps;
  const storeLogger = deps.logger.child({ part: 'store' });
  // Another process (`lintel cards import`) may commit to the same file: applied person by person within a second.
  const watch = new ExternalChangeWatch({
    db: store.db,
    clock,
    logger: storeLogger,
    countFailure,
    index: deps.index,
    swap: deps.swapIndex,
    newIndex: deps.newIndex,
    from: deps.changeMark,
    siteChanged: deps.siteChanged,
    workerReads: true,
  });
  watch.start();
  const ownCommits = store.onCommit((change) => watch.noteOwnCommit(change.people));
  const timers: Timer[] = [{ cancel: () => (watch.stop(), ownCommits()) }];
  timers.push(
    startHousekeeping({ store, clock, logger: storeLogger, countFailure, extra: [() => void pruneChangeLog(store.db, watch.appliedSeq())] }),
  );
  timers.push(guardedInterval('link-files', deps.retryLinkFiles, { clock, everyMs: LINK_FILE_RETRY_MS, logger: deps.logger, countFailure }));
  // Audit retention: export, then delete, in short batches; async, so on its own guarded timer.
  timers.push(
    guardedInterval(
      'audit-retention',
      async () => {
        const cfg = deps.config();
        await pruneAudit(store, clock.now(), { retentionDays: cfg.audit.retentionDays, archiveDir: sitePaths(cfg).auditArchive });
      },
      { clock, everyMs: HOUSEKEEPING_EVERY_MS, logger: storeLogger, countFailure },
    ),
  );
  return {
    stop() {
      for (const t of timers.splice(0)) t.cancel();
    },
    changesCommitted: (delayMs?: number) => watch.pollSoon(delayMs),
    rebuildIndex: () => watch.rebuildSoon(),
    /** The change-log position the index has applied everything up to (for the stop's index snapshot). */
    appliedSeq: () => watch.appliedSeq(),
    waitApplied: (seq: number, ms: number) => watch.waitApplied(seq, ms),
  };
}
