import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

/**
 * Whether any process has the database open: a running gateway, a `lintel people …` in flight,
 * the sqlite3 shell. Asked of SQLite's own file locks rather than a pid file: every connection
 * to a WAL database holds a shared lock on it for as long as it is open, the kernel drops the
 * lock when the process dies (even on SIGKILL, so it never goes stale), and a pid can be reused.
 * The probe asks for the exclusive lock without waiting and lets go at once; it writes nothing.
 * (Locks on network file systems are not reliable: the data dir is local, see README.)
 */
export function databaseInUse(dbFile: string): boolean {
  if (!existsSync(dbFile)) return false;
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return false;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return true;
    throw err;
  } finally {
    db.close();
  }
}
