import { performance } from 'node:perf_hooks';
import type { AccessIndex } from '../access/access-index.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { prepareCached as cached, type Db } from './db.js';
import { readChangeMark, type ChangeMark } from './change-log.js';
import { loadIndexOnWorker } from './index-load-pages.js';
import { loadIndex, refreshDoors, refreshPeople } from './index-loader.js';
import { readIndexSnapshot, removeIndexSnapshot, writeIndexSnapshot } from './index-snapshot.js';
import type { Store } from './store.js';

/*
 * How the gateway gets its index at start and keeps it for the next: from the snapshot of the
 * last clean stop plus the change log since (people refreshed one by one, as the running
 * gateway applies another process's commits), or from the tables when the snapshot is missing,
 * stale, corrupt or of another key. Both give the index a restart from the tables would.
 */

/**
 * Refreshing one person costs ~20-40 µs at a million people; beyond this many people changed
 * since the snapshot (a large import while the gateway was stopped), loading everything from
 * the tables (~6 s at a million) is the quicker way.
 */
export const MAX_CATCH_UP_PEOPLE = 100_000;

export interface StartedIndex {
  /** Taken before the index was filled: the watcher applies what was committed after it. */
  mark: ChangeMark;
  source: 'snapshot' | 'tables';
  ms: number;
}

export async function startIndex(db: Db, index: AccessIndex, snapshotFile: string, logger: Logger): Promise<StartedIndex> {
  const started = performance.now();
  const mark = readChangeMark(db);
  const snap = readIndexSnapshot(db, index, snapshotFile);
  let reason: string;
  if (snap.ok) {
    const changed = changedPeople(db, snap.seq, mark.seq);
    if (changed.length <= MAX_CATCH_UP_PEOPLE) {
      refreshDoors(db, index);
      refreshPeople(db, index, changed);
      const ms = Math.round(performance.now() - started);
      logger.info({ ms, caughtUp: changed.length, ...index.stats() }, 'index restored from the snapshot of the last stop');
      return { mark, source: 'snapshot', ms };
    }
    reason = `${changed.length} people changed since the snapshot`;
  } else {
    reason = snap.reason;
  }
  // Read once and found wanting: a stale file would only be read (and refused) again.
  if (reason !== 'no snapshot file') removeIndexSnapshot(snapshotFile);
  const loaded = await loadFromTables(db, index, mark, logger);
  const ms = Math.round(performance.now() - started);
  logger.info({ ms, snapshot: reason, worker: loaded !== mark, ...index.stats() }, 'index loaded from the database');
  return { mark: loaded, source: 'tables', ms };
}

/**
 * On a worker (index-load-pages.ts) when the database is a file: the mark is then the seq read
 * in the worker's one read transaction (what its pages are consistent with), with this
 * connection's data_version read before it began (so any commit of another connection after
 * that is looked at by the watcher). A worker that fails leaves a half-filled index: loaded
 * again here, on this thread, as before.
 */
async function loadFromTables(db: Db, index: AccessIndex, before: ChangeMark, logger: Logger): Promise<ChangeMark> {
  if (!db.memory) {
    try {
      const { seq } = await loadIndexOnWorker(db.name, db, index);
      return { seq, dataVersion: before.dataVersion };
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'index load on a worker failed; loading on the main thread');
    }
  }
  loadIndex(db, index);
  return before;
}

/** Distinct people in the change log after `after` up to `upTo`. */
function changedPeople(db: Db, after: number, upTo: number): number[] {
  if (upTo <= after) return [];
  const rows = cached(db, 'SELECT DISTINCT person_id FROM change_log WHERE seq > ? AND seq <= ? AND person_id IS NOT NULL').raw().all(after, upTo) as [number][];
  return rows.map((r) => r[0]);
}

/**
 * At a clean stop, after the readers and the change watcher stopped: `appliedSeq` is the
 * watcher's mark, or the load's when the watcher never started (everything up to it is in the
 * index). Never throws: a stop must finish, and without a snapshot the next start only takes longer.
 */
export function saveIndexAtStop(store: Store, index: AccessIndex, appliedSeq: number, file: string, now: number, logger: Logger): void {
  if (!store.db.open) return;
  const started = performance.now();
  try {
    const { bytes } = writeIndexSnapshot(store, index, appliedSeq, file, now);
    logger.info({ ms: Math.round(performance.now() - started), mb: Math.round(bytes / 1048576), seq: appliedSeq }, 'index snapshot written');
  } catch (err) {
    try {
      removeIndexSnapshot(file);
    } catch {
      // The database's row names another snapshot id now or soon: the file will not be trusted.
    }
    logger.warn({ err: errorMessage(err) }, 'index snapshot not written; the next start loads the index from the database');
  }
}
