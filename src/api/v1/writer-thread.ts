import { parentPort, workerData } from 'node:worker_threads';
import { subjectHasher } from '../../qr/member-subject.js';
import { openDatabase } from '../../store/db.js';
import { isSqliteBusy } from '../../store/sqlite-busy.js';
import { Store } from '../../store/store.js';
import { ApplyBatcher } from '../../store/apply-batcher.js';
import { readChangeMark } from '../../store/change-log.js';
import { errorMessage } from '../../util/errors.js';
import { apiErrorOf } from './error-handler.js';
import { runOp, WRITE_OPS, type WriteOp } from './write-ops.js';
import type { WriterReply, WriterRequest } from './writer.js';

/*
 * The API's writer thread (writer.ts): its own connection, which may wait for the write lock
 * and pays the fsync of a durable commit, neither of which the main thread may do. Requests that
 * arrive together commit together (ApplyBatcher, one savepoint each), so eight clients' PUTs cost
 * one fsync, not eight.
 */

const { dbFile, key } = workerData as { dbFile: string; key: Uint8Array };
const store = new Store(openDatabase(dbFile), subjectHasher(Buffer.from(key)));
// 'full': a provisioning change has nobody to repeat it after a power cut. 5 ms of gathering per batch at most.
// Immediate: the use cases read before they write, and the gateway's audit rows commit in between.
const batcher = new ApplyBatcher(store, { durability: 'full', ms: 5, immediate: true });

/**
 * The change log's mark after the batch that carried a reply: the main thread waits until its
 * index has applied up to it. Read here, once per commit, rather than on the main thread once
 * per reply (a read transaction and two queries each, on the loop that decides badges).
 */
let markOf = { commits: -1, seq: 0 };
function committedSeq(): number {
  if (markOf.commits !== batcher.commits) markOf = { commits: batcher.commits, seq: readChangeMark(store.db).seq };
  return markOf.seq;
}

function failure(err: unknown): WriterReply['error'] {
  if (isSqliteBusy(err)) return { kind: 'busy', message: errorMessage(err) };
  const api = apiErrorOf(err);
  if (api) return { kind: 'api', status: api.status, code: api.code, message: api.message, ...(api.field === undefined ? {} : { field: api.field }) };
  return { kind: 'error', message: errorMessage(err), ...(typeof (err as { code?: unknown }).code === 'string' ? { code: (err as { code: string }).code } : {}) };
}

function accept(req: WriterRequest): void {
  if (!Object.hasOwn(WRITE_OPS, req.op)) {
    parentPort?.postMessage({ id: req.id, error: { kind: 'error', message: `unknown write op ${req.op}` } } satisfies WriterReply);
    return;
  }
  batcher.apply(() => runOp(store, req.op as WriteOp, req.args)).then(
    // Resolved in the microtasks right after the commit's macrotask: no later batch has committed yet.
    (value) => parentPort?.postMessage({ id: req.id, value, seq: committedSeq() } satisfies WriterReply),
    (err: unknown) => parentPort?.postMessage({ id: req.id, error: failure(err) } satisfies WriterReply),
  );
}

// A message is the requests of one turn of the main thread's loop (writer.ts), in order.
parentPort?.on('message', (msg: WriterRequest[] | { stop: true }) => {
  if ('stop' in msg) {
    // Between macrotasks: no transaction is open. Jobs still queued fail on the closed store, and their callers were told already.
    store.close();
    parentPort?.close();
    return;
  }
  for (const req of msg) accept(req);
});
