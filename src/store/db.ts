import Database, { type Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { errorMessage } from '../util/errors.js';
import { dirname } from 'node:path';
import { migrations, type Migration } from './migrations.js';

export type Db = Database.Database;

/** What a one-shot process (the CLI, a worker) waits for another's lock; the gateway's main thread waits for none (neverWaitForLocks). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the gateway database: WAL so readers (status page, CLI) never block the writer,
 * synchronous=NORMAL as the connection default (durable across process crashes; the audit log
 * and other re-derivable writes use it) while Store.transact commits FULL (see
 * docs/durability.md), foreign keys on, and all migrations applied.
 */
export function openDatabase(file: string, list: readonly Migration[] = migrations): Db {
  let db: Db;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
    db = new Database(file);
    // WAL needs the directory writable (the -wal and -shm files): a read-only data dir fails here.
    db.pragma('journal_mode = WAL');
  } catch (err) {
    // SQLite's own message ("unable to open database file") names no path: the operator needs it.
    throw Object.assign(new Error(`cannot open the database ${file}: ${errorMessage(err)} (is ${dirname(file)} writable by this user?)`), {
      code: (err as { code?: unknown }).code,
    });
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
  // After a burst the WAL is truncated back to this size once a checkpoint has caught up.
  db.pragma('journal_size_limit = 8388608');
  migrate(db, list);
  return db;
}

/**
 * The gateway's main thread decides badges: it must never sleep in SQLite's busy handler while
 * a backup script or `sqlite3` holds the write lock. From here on a locked write fails at once
 * with SQLITE_BUSY and its writer queues or retries (isSqliteBusy). Reads never need the lock
 * in WAL mode. Start-up (migrations, the first config sync) runs before this, with a timeout:
 * no badge is decided yet.
 */
export function neverWaitForLocks(db: Db): void {
  db.pragma('busy_timeout = 0');
}

export function migrate(db: Db, list: readonly Migration[] = migrations): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = list.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this lintel (${latest}); refusing to run`);
  }
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return latest;
}

/** Prepared once per connection: compiling SQL costs more than running most of these statements. */
const statements = new WeakMap<Db, Map<string, Statement>>();

export function prepareCached(db: Db, sql: string): Statement {
  let map = statements.get(db);
  if (!map) statements.set(db, (map = new Map()));
  let stmt = map.get(sql);
  if (!stmt) map.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}
