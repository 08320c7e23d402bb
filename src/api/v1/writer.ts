import { Worker } from 'node:worker_threads';
import type { Logger } from '../../util/log.js';
import { builtEntry } from '../../util/worker-entry.js';
import { ApiError, type ApiStatus } from './errors.js';
import { writesVia, type WriteOp, type Writes } from './write-ops.js';

/*
 * The v1 API's writes run on a thread of their own (writer-thread.ts). On the main thread a
 * durable commit is an fsync, milliseconds each, and a provisioning burst of them stalled every
 * badge read behind it (the bench: single PUTs took swipe → pulse p99 from 8 ms to 209 ms).
 * The main thread keeps reading SQLite for GETs and the index, and learns of each commit
 * through the change watcher, told at once; the answer waits until the index has it.
 */

export interface WriterRequest {
  id: number;
  op: string;
  args: unknown[];
}

export interface WriterReply {
  id: number;
  value?: unknown;
  /** With a value: the change log's mark (readChangeMark) after the commit that carried it. */
  seq?: number;
  error?: { kind: 'api'; status: ApiStatus; code: string; message: string; field?: string } | { kind: 'busy' | 'error'; message: string; code?: string };
}

export interface ApiWriterOptions {
  dbFile: string;
  key: Uint8Array;
  logger: Logger;
  /**
   * A write committed on the thread's connection, the change log at `seq` after it: resolves
   * once the index has it, so a client that got its answer can badge at once (never rejects;
   * the part bounds the wait).
   */
  afterCommit: (seq: number) => Promise<void>;
  entry?: URL;
}

export class ApiWriter {
  readonly writes: Writes;
  private worker: Worker | null = null;
  private nextId = 1;
  private outbox: WriterRequest[] = [];
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private stopped = false;

  constructor(private readonly opts: ApiWriterOptions) {
    this.writes = writesVia((op, args) => this.send(op, args));
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.opts.entry ?? builtEntry('./writer-thread.js', import.meta.url), { workerData: { dbFile: this.opts.dbFile, key: this.opts.key } });
    worker.on('message', (reply: WriterReply) => this.answer(reply));
    worker.on('error', (err) => this.opts.logger.error({ err: err.message }, 'api writer thread failed'));
    // A thread that died fails what it held (the client may retry: PUTs are idempotent) and is started again by the next write.
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(new ApiError(503, 'writer_unavailable', 'the writer restarted; nothing is known to be written, retry'));
      this.pending.clear();
      if (!this.stopped) this.opts.logger.warn({ code }, 'api writer thread ended; the next write starts a new one');
    });
    worker.unref();
    return (this.worker = worker);
  }

  private send(op: WriteOp, args: unknown[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(new ApiError(503, 'stopping', 'the gateway is stopping'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.outbox.push({ id, op, args });
      if (this.outbox.length === 1) setImmediate(() => this.flushOutbox());
    });
  }

  /**
   * The requests of one loop turn go to the thread in one message. A postMessage was the
   * main thread's largest single cost per PUT in the bench's profile (serializing, and waking
   * the thread, which on two busy cores takes the core from the loop); eight clients' requests
   * parsed in the same turn pay it once. They still commit as before: each its own savepoint.
   */
  private flushOutbox(): void {
    const batch = this.outbox;
    this.outbox = [];
    if (!this.stopped) return this.thread().postMessage(batch satisfies WriterRequest[]);
    // Stopped in between: never start a thread again; the callers may retry elsewhere.
    for (const { id } of batch) {
      this.pending.get(id)?.reject(new ApiError(503, 'stopping', 'the gateway is stopping'));
      this.pending.delete(id);
    }
  }

  private answer(reply: WriterReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    const e = reply.error;
    if (e === undefined) {
      // The write is committed whatever the wait for the index says: answer on either outcome, never leave the caller hanging.
      const done = () => p.resolve(reply.value);
      void this.opts.afterCommit(reply.seq ?? 0).then(done, done);
      return;
    }
    if (e.kind === 'api') return p.reject(new ApiError(e.status, e.code, e.message, e.field));
    p.reject(Object.assign(new Error(e.message), { code: e.kind === 'busy' ? 'SQLITE_BUSY' : e.code }));
  }

  /** Lets the thread close its connection; past `boundMs` it is terminated (the store's file lock goes with it). */
  async stop(boundMs = 1000): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ stop: true });
    const cut = setTimeout(() => void worker.terminate(), boundMs);
    await exited;
    clearTimeout(cut);
    this.worker = null;
  }
}
