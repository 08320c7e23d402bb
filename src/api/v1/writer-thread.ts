import { parentPort, workerData } from 'node:worker_threads';
import { subjectHasher } from '../../qr/member-subject.js';
import { neverWaitForLocks, openDatabase } from '../../store/db.js';
import { isSqliteBusy } from '../../store/sqlite-busy.js';
import { Store } from '../../store/store.js';
import { ApplyBatcher } from '../../store/apply-batcher.js';
import { readChangeMark } from '../../store/change-log.js';
import { errorMessage } from '../../util/errors.js';
import { createLogger } from '../../util/log.js';
import { lowerOwnPriority } from '../../util/priority.js';
import type { LevelWithSilent } from 'pino';
import { apiErrorOf } from './error-handler.js';
import { ApiError } from './errors.js';
import { ThreadApp } from './thread-app.js';
import { jsonReply } from '../../http/v1-forward.js';
import type { ApiThreadData, FromThread, ToThread, WriterReply, WriterRequest } from './thread-messages.js';
import { runOp, WRITE_OPS, type WriteOp } from './write-ops.js';

/*
 * The API thread (writer.ts starts it): all of /api/v1 and every write the API and the console
 * make. Its write connection may wait for the write lock and pays the fsync of a durable commit,
 * neither of which the main thread may do; writes that arrive together commit together
 * (ApplyBatcher, one savepoint each), so eight clients' PUTs cost one fsync, not eight. Its read
 * connection serves the token lookups and GETs and, like the main thread's, never waits for a
 * lock. Routing, zod, JSON and the reads run here too (thread-app.ts): the main thread only moves
 * bytes (http/v1-forward.ts). A write blocked on another program's lock holds this thread's
 * requests, never a badge.
 */

const { dbFile, key, live } = workerData as ApiThreadData;
const hasher = subjectHasher(Buffer.from(key));
const store = new Store(openDatabase(dbFile), hasher);
const reads = new Store(openDatabase(dbFile), hasher);
neverWaitForLocks(reads.db);
// 'full': a provisioning change has nobody to repeat it after a power cut. 5 ms of gathering per batch at most.
// Immediate: the use cases read before they write, and the gateway's audit rows commit in between.
const batcher = new ApplyBatcher(store, { durability: 'full', ms: 5, immediate: true });
const post = (msg: FromThread, transfer: ArrayBuffer[] = []) => parentPort?.postMessage(msg, transfer);
const logger = createLogger(live.logLevel as LevelWithSilent, { write: (line: string) => post({ kind: 'log', line }) });
// The API's CPU (routing, zod, JSON) now runs here: it yields the core to the badge path
// (util/priority.ts), as the upstream thread does. A client's answer may wait a little longer
// while both want a core; a swipe does not. A bulk's worker, started from here, is nicer still.
const refused = lowerOwnPriority();
if (refused !== null) logger.debug({ err: refused }, 'could not lower the api thread priority');

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

/** Resolved in the microtasks right after the commit's macrotask: no later batch has committed yet. */
const write = (op: WriteOp, args: readonly unknown[]) => batcher.apply(() => runOp(store, op, args)).then((value) => ({ value, seq: committedSeq() }));
const app = new ThreadApp({ reads, dbFile, key: Buffer.from(key), logger, write }, live);

function failure(err: unknown): WriterReply['error'] {
  if (isSqliteBusy(err)) return { kind: 'busy', message: errorMessage(err) };
  const api = apiErrorOf(err);
  if (api) return { kind: 'api', status: api.status, code: api.code, message: api.message, ...(api.field === undefined ? {} : { field: api.field }) };
  return { kind: 'error', message: errorMessage(err), ...(typeof (err as { code?: unknown }).code === 'string' ? { code: (err as { code: string }).code } : {}) };
}

function acceptWrite(req: WriterRequest): void {
  if (!Object.hasOwn(WRITE_OPS, req.op)) {
    post({ kind: 'write', reply: { id: req.id, error: { kind: 'error', message: `unknown write op ${req.op}` } } });
    return;
  }
  write(req.op as WriteOp, req.args).then(
    ({ value, seq }) => post({ kind: 'write', reply: { id: req.id, value, seq } }),
    (err: unknown) => post({ kind: 'write', reply: { id: req.id, error: failure(err) } }),
  );
}

function accept(msg: ToThread): void {
  switch (msg.kind) {
    case 'writes':
      return msg.batch.forEach(acceptWrite);
    case 'live':
      logger.level = msg.live.logLevel;
      return app.setLive(msg.live);
    case 'http':
      // serve() answers every failure itself; a rejection here is a bug, answered 500 rather than left hanging.
      return void app.serve(msg.id, msg.req, msg.now).then(
        (done) => post(done, done.reply.body === null ? [] : [done.reply.body]),
        (err: unknown) => {
          logger.error({ err: errorMessage(err) }, 'api request failed in the thread');
          const reply = jsonReply(500, new ApiError(500, 'internal_error', 'internal error').body());
          post({ kind: 'http', id: msg.id, reply }, reply.body === null ? [] : [reply.body]);
        },
      );
  }
}

// A message is the requests of one turn of the main thread's loop (writer.ts), in order.
parentPort?.on('message', (msg: ToThread[] | { stop: true }) => {
  if ('stop' in msg) {
    // Between macrotasks: no transaction is open. Jobs still queued fail on the closed store, and their callers were told already.
    store.close();
    reads.close();
    parentPort?.close();
    return;
  }
  for (const m of msg) accept(m);
});
