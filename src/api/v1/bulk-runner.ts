import { Worker } from 'node:worker_threads';
import type { BulkSummary, LineError } from '../../store/people-bulk.js';
import { builtEntry } from '../../util/worker-entry.js';

/*
 * A bulk of up to 100,000 people is one transaction of seconds: on the main thread it would
 * hold every badge read behind it (the hot path never waits on a rebuild or a long write). So
 * it runs in a worker thread on its own connection, and the gateway's change watcher applies
 * the commit to the index beside the badge path, in slices, like any other writer's.
 */

export interface BulkJob {
  dbFile: string;
  /** The member-token key: people created here get their subject as everywhere else. */
  key: Uint8Array;
  /** The request body, moved (transferred) to the worker rather than copied. */
  body: ArrayBuffer;
  ndjson: boolean;
  actor: string;
  now: number;
  knownGroups: string[];
}

export type BulkReply =
  | { ok: true; summary: BulkSummary }
  | { ok: false; refused: { errors: LineError[]; total: number } }
  | { ok: false; error: { message: string; code?: string } };

/** Bulks run one at a time: two would only queue on SQLite's write lock, each holding a thread. */
export class BulkRunner {
  private queue: Promise<unknown> = Promise.resolve();

  run(job: BulkJob): Promise<BulkReply> {
    const run = this.queue.then(() => inWorker(job));
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function inWorker(job: BulkJob): Promise<BulkReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(builtEntry('./bulk-worker.js', import.meta.url), { workerData: job, transferList: [job.body] });
    let reply: BulkReply | undefined;
    worker.once('message', (m: BulkReply) => (reply = m));
    worker.once('error', reject);
    worker.once('exit', () => (reply === undefined ? reject(new Error('the bulk worker ended without an answer')) : resolve(reply)));
  });
}
