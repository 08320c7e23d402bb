import { parentPort, workerData } from 'node:worker_threads';
import { subjectHasher } from '../../qr/member-subject.js';
import { openDatabase } from '../../store/db.js';
import { applyBulk, BulkRefusedError } from '../../store/people-bulk.js';
import { Store } from '../../store/store.js';
import { lowerOwnPriority } from '../../util/priority.js';
import { parseBulk } from './bulk-parse.js';
import type { BulkJob, BulkReply } from './bulk-runner.js';

/*
 * The worker side of bulk-runner.ts: parses, validates and applies one bulk on its own
 * connection (a connection is per thread), which may wait for the write lock as the main
 * thread's never does, then answers once. Niced: the badge path keeps the CPU it needs.
 */

const job = workerData as BulkJob;
lowerOwnPriority();
let reply: BulkReply;
const store = new Store(openDatabase(job.dbFile), subjectHasher(Buffer.from(job.key)));
try {
  const parsed = parseBulk(new TextDecoder('utf-8', { fatal: true }).decode(job.body), job.ndjson);
  const summary = applyBulk(store, parsed.records, parsed.lines, { actor: job.actor, now: job.now }, new Set(job.knownGroups), parsed.errors);
  reply = { ok: true, summary };
} catch (err) {
  const e = err as Error & { code?: string };
  reply = err instanceof BulkRefusedError ? { ok: false, refused: { errors: err.errors, total: err.total } } : { ok: false, error: { message: e.message, ...(e.code === undefined ? {} : { code: e.code }) } };
} finally {
  store.close();
}
parentPort?.postMessage(reply);
