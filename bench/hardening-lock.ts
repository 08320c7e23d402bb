/**
 * Another program holding the gateway database's write lock, as a backup script, `sqlite3` or a
 * long CLI command does: its own better-sqlite3 connection, BEGIN IMMEDIATE, then nothing for
 * the given time. It rolls back, so the gateway sees no external change (that is the import
 * phase's fault, measured on its own). Prints `locked` once it holds the lock and
 * `released <ms>` when it lets go.
 * Usage: node dist/bench/hardening-lock.js <db file> <seconds>
 */
import Database from 'better-sqlite3';

const [file, seconds] = [process.argv[2], Number(process.argv[3] ?? 10)];
if (!file || !(seconds > 0)) {
  console.error('usage: hardening-lock.js <db file> <seconds>');
  process.exit(2);
}
const db = new Database(file, { fileMustExist: true });
// Waits for the gateway's own short write to end, as any well-behaved tool would, then holds.
db.pragma('busy_timeout = 10000');
db.exec('BEGIN IMMEDIATE');
const lockedAt = performance.now();
process.stdout.write('locked\n');
setTimeout(() => {
  db.exec('ROLLBACK');
  process.stdout.write(`released ${Math.round(performance.now() - lockedAt)}\n`);
  db.close();
}, seconds * 1000);
