import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadJob, LoadMessage } from './index-load-format.js';
import { packPage, pageBuffers, type Value } from './index-load-pack.js';

/*
 * The worker side of the first start's load (index-load-pages.ts, format in index-load-format.ts): reads every page of people,
 * cards, grants and memberships in ONE read transaction on its own read-only connection, so the
 * pages are one snapshot of the database and the change-log seq read first in that transaction
 * is exactly what they are consistent with. Each page goes to the main thread as typed arrays
 * (transferred, not copied) plus the page's strings; the main thread fills the index while this
 * thread reads the next page, so SQLite's row-to-JS cost (the bulk of a load) runs on the other
 * core. It imports nothing of the gateway: a worker starts in a few tens of milliseconds.
 */

const job = workerData as LoadJob;
const port = parentPort!;
/** [pages posted, pages the main thread has filled]: the worker keeps at most `ahead` pages in flight. */
const flow = new Int32Array(job.flow);

function post(message: LoadMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function run(): void {
  const db = new Database(job.file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('BEGIN').run();
    // The first read starts the snapshot: the seq and every page below come from it.
    const seq = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'change_log'").pluck().get() as number | undefined) ?? 0;
    const doors = db.prepare('SELECT id FROM doors').pluck().all() as string[];
    const [people, activeCards] = db.prepare("SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM credentials WHERE state = 'active')").raw().get() as [number, number];
    const anyMemberships = db.prepare('SELECT EXISTS (SELECT 1 FROM person_groups)').pluck().get() === 1;
    post({ kind: 'start', seq, doors, people, activeCards });
    const range = 'WHERE person_id > ? AND person_id <= ? ORDER BY person_id';
    const personStmt = db.prepare('SELECT id, email, state, tokens_valid_after, subject_hi, subject_lo, subject_key, valid_from, valid_to FROM people WHERE id > ? ORDER BY id LIMIT ?').raw();
    const cardStmt = db.prepare(`SELECT person_id, number, state, valid_from, valid_to FROM credentials ${range}`).raw();
    const grantStmt = db.prepare(`SELECT person_id, door_id, valid_from, valid_to FROM grants ${range}`).raw();
    const memberStmt = db.prepare(`SELECT person_id, group_id, valid_from, valid_to FROM person_groups ${range}`).raw();
    for (let after = -Infinity; ; ) {
      const rows = personStmt.all(after, job.batch) as Value[][];
      if (rows.length === 0) break;
      const last = rows[rows.length - 1]![0] as number;
      const cards = cardStmt.all(after, last) as Value[][];
      const grants = grantStmt.all(after, last) as Value[][];
      const memberships = anyMemberships ? (memberStmt.all(after, last) as [number, string, number | null, number | null][]) : [];
      // Not more than `ahead` pages wait for the main thread: the rows of a slow fill do not pile up here.
      while (Atomics.load(flow, 0) - Atomics.load(flow, 1) >= job.ahead) Atomics.wait(flow, 1, Atomics.load(flow, 1), 1000);
      const page = packPage(job, rows, cards, grants, memberships);
      Atomics.add(flow, 0, 1);
      post({ kind: 'page', page }, pageBuffers(page));
      after = last;
    }
    db.prepare('COMMIT').run();
    post({ kind: 'end' });
  } finally {
    db.close();
  }
}

try {
  run();
} catch (err) {
  post({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
}
