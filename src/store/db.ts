import Database, { type Statement } from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { errorMessage } from '../util/errors.js';
import { dirname } from 'node:path';
import { migrations, type Migration } from './migrations.js';
import { backupBeforeUpgrade, inspectSchema, SchemaTooNewError, type SchemaState } from './upgrade.js';
import { VERSION } from '../version.js';

export type Db = Database.Database;

/** What a one-shot process (the CLI, a worker) waits for another's lock; the gateway's main thread waits for none (neverWaitForLocks). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface OpenOptions {
  /** For the name of the pre-upgrade copy (tests pin it). */
  now?: () => number;
}

/**
 * Opens the gateway database: WAL so readers (status page, CLI) never block the writer,
 * synchronous=NORMAL as the connection default (durable across process crashes; the audit log
 * and other re-derivable writes use it) while Store.transact commits FULL (see
 * docs/durability.md), foreign keys on, and all migrations applied: after a copy at the old
 * version when there is data to lose, never on a database a newer build wrote (src/store/upgrade.ts).
 */
export function openDatabase(file: string, list: readonly Migration[] = migrations, options: OpenOptions = {}): Db {
  let db: Db;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
    db = new Database(file);
  } catch (err) {
    throw cannotOpen(file, err);
  }
  // Before anything writes to it (even the journal mode): a database from a newer build is left as it was.
  let current: number;
  try {
    current = db.pragma('user_version', { simple: true }) as number;
  } catch (err) {
    db.close();
    throw cannotOpen(file, err);
  }
  const latest = latestVersion(list);
  if (current > latest) {
    db.close();
    throw new SchemaTooNewError(file, current, latest);
  }
  try {
    // WAL needs the directory writable (the -wal and -shm files): a read-only data dir fails here.
    db.pragma('journal_mode = WAL');
  } catch (err) {
    db.close();
    throw cannotOpen(file, err);
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
  // After a burst the WAL is truncated back to this size once a checkpoint has caught up.
  db.pragma('journal_size_limit = 8388608');
  const now = options.now ?? Date.now;
  try {
    // A database with data gets a copy at its old version first; a new one has nothing to lose.
    if (file !== ':memory:' && current > 0 && current < latest) backupBeforeUpgrade(db, file, current, now());
    migrate(db, list, now);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** SQLite's own message ("unable to open database file") names no path: the operator needs it. */
function cannotOpen(file: string, err: unknown): Error {
  return Object.assign(new Error(`cannot open the database ${file}: ${errorMessage(err)} (is ${dirname(file)} writable by this user?)`), {
    code: (err as { code?: unknown }).code,
  });
}

/** The schema of an existing database file, read without changing it; null when there is none yet. */
export function databaseSchema(file: string, list: readonly Migration[] = migrations): SchemaState | null {
  if (!existsSync(file)) return null;
  return inspectSchema(file, latestVersion(list), (f) => new Database(f, { fileMustExist: true }));
}

function latestVersion(list: readonly Migration[]): number {
  return list.reduce((max, m) => Math.max(max, m.version), 0);
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

/**
 * Applies the pending migrations, each in one transaction with its user_version bump and, once
 * the schema has it (migration 9), its row in schema_history: which build applied which version
 * when, for whoever later reads an upgrade's story. Migrations applied in the same run before
 * the table existed are recorded as soon as it does.
 */
export function migrate(db: Db, list: readonly Migration[] = migrations, now: () => number = Date.now): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = latestVersion(list);
  if (current > latest) throw new SchemaTooNewError(db.name, current, latest);
  const unrecorded: number[] = [];
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
      unrecorded.push(m.version);
      if (hasHistory(db)) {
        const insert = db.prepare('INSERT INTO schema_history (version, applied_at, lintel_version) VALUES (?, ?, ?)');
        for (const v of unrecorded.splice(0)) insert.run(v, now(), VERSION);
      }
    })();
  }
  return latest;
}

function hasHistory(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_history'").get() !== undefined;
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
