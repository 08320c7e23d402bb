import { prepareCached as cached, type Db } from './db.js';

/*
 * change_log: migration 6's triggers log every person and door change, from any connection, so
 * that the watcher (external-changes.ts) can apply other processes' commits to the index. These
 * are the log's queries: where it stands, what changed between two points, whether entries are
 * missing, and the pruning housekeeping does once the watcher has applied them.
 */

export interface ChangeMark {
  seq: number;
  dataVersion: number;
}

/**
 * The log's high-water mark and data_version from one read snapshot, so no commit can fall
 * between the two reads: one statement is one read transaction, and inside it data_version is
 * that of the snapshot. One prepared statement, not a transaction around a query and
 * db.pragma() (which compiles its statement at every call): the watcher and the API's writer
 * read it at every commit. The mark comes from sqlite_sequence (AUTOINCREMENT's counter), not
 * max(seq): once pruning has emptied the log, max(seq) would be null and the mark would go
 * back to 0, while the counter keeps the last entry ever written.
 */
export function readChangeMark(db: Db): ChangeMark {
  const [seq, dataVersion] = cached(db, "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'change_log'), (SELECT data_version FROM pragma_data_version)")
    .raw()
    .get() as [number | null, number];
  return { seq: seq ?? 0, dataVersion };
}

/** Entries after `seq` must start at seq + 1; anything else means some were pruned unapplied. */
export function logHasHole(db: Db, seq: number): boolean {
  const row = cached(db, 'SELECT min(seq) AS first FROM change_log WHERE seq > ?').get(seq) as { first: number | null };
  return row.first !== seq + 1;
}

/**
 * The people (each once) and whether any door changed, in the entries after `after` up to `upTo`.
 * Two plucked queries, SQLite doing the distinct: a row array per entry was ~200 bytes of
 * garbage each on the thread that decides badges, 60 MB for the 300,000 entries of a
 * 100,000-person bulk (bench/bulk-apply-gc.ts with HEAPPROF), more than the whole fill.
 */
export function changedBetween(db: Db, after: number, upTo: number): { people: number[]; doors: boolean } {
  const people = cached(db, 'SELECT DISTINCT person_id FROM change_log WHERE seq > ? AND seq <= ? AND person_id IS NOT NULL').pluck().all(after, upTo) as number[];
  const doors = cached(db, 'SELECT EXISTS (SELECT 1 FROM change_log WHERE seq > ? AND seq <= ? AND doors = 1)').pluck().get(after, upTo) === 1;
  return { people, doors };
}

/** Housekeeping: drop log entries the watcher has applied (they are never read again). */
export function pruneChangeLog(db: Db, appliedSeq: number): number {
  return cached(db, 'DELETE FROM change_log WHERE seq <= ?').run(appliedSeq).changes;
}
