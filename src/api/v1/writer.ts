import { Worker } from 'node:worker_threads';
import { jsonReply, type V1Endpoint, type V1Reply, type V1Request } from '../../http/v1-forward.js';
import { relayThreadLog } from '../../upstream/worker/thread-log.js';
import { backoffMs } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { builtEntry } from '../../util/worker-entry.js';
import { ApiError } from './errors.js';
import type { ApiLive, ApiThreadData, FromThread, HttpDone, ToThread, WriterReply } from './thread-messages.js';
import { writesVia, type WriteOp, type Writes } from './write-ops.js';

/*
 * The v1 API runs on a thread of its own (writer-thread.ts): its requests, which arrive here as
 * bytes (http/v1-forward.ts), and its writes. On the main thread a durable commit is an fsync,
 * milliseconds each, and a provisioning burst of them stalled every badge read behind it (the
 * bench: single PUTs took swipe → pulse p99 from 8 ms to 209 ms); later the routing, zod and
 * JSON of each request were what was left there, and their garbage paused the badge path. The
 * main thread learns of each commit through the change watcher, told at once; a write's answer
 * waits until the index has it.
 */

export type { WriterReply, WriterRequest } from './thread-messages.js';

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
  /** A request committed through a thread of its own (a bulk): the change watcher should look now. */
  nudge?: () => void;
  /** The configuration the API reads at each request; setLive() replaces it. Without it: no groups, no locations. */
  live?: ApiLive;
  /** The thread ended without being asked to (counted by the part); it is started again after a backoff. */
  onCrash?: () => void;
  entry?: URL;
}

const NO_LIVE: ApiLive = { knownGroups: [], bookingConfig: { resources: [], access: { graceBeforeMinutes: 0, graceAfterMinutes: 0 } }, locations: [], qrTtlSeconds: 300, operatorToken: undefined, logLevel: 'info' };
const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 10_000;

/** A v1 answer the thread could not give: the API's error shape, and a hint to retry. */
const unavailable = (code: string, message: string): V1Reply => jsonReply(503, new ApiError(503, code, message).body(), [['retry-after', '1']]);

export class ApiWriter implements V1Endpoint {
  readonly writes: Writes;
  private worker: Worker | null = null;
  private nextId = 1;
  private outbox: ToThread[] = [];
  private transfers: ArrayBuffer[] = [];
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly pendingHttp = new Map<number, (reply: V1Reply) => void>();
  private stopped = false;
  private live: ApiLive;
  /** Crashes since the thread last answered; the next start waits backoffMs(crashes) from `downUntil`. */
  private crashes = 0;
  private downUntil = 0;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ApiWriterOptions) {
    this.live = opts.live ?? NO_LIVE;
    this.writes = writesVia((op, args) => this.send(op, args));
  }

  /** Starts the thread now rather than at the first request (tests; and the restart after a crash, which must not wait for a request to come). */
  start(): void {
    if (!this.stopped) this.thread();
  }

  /** The running configuration changed (a reload): the thread serves the next request with it. */
  setLive(live: ApiLive): void {
    this.live = live;
    if (this.worker) this.enqueue({ kind: 'live', live });
  }

  private thread(): Worker | null {
    if (this.worker) return this.worker;
    if (Date.now() < this.downUntil) return null;
    const data: ApiThreadData = { dbFile: this.opts.dbFile, key: this.opts.key, live: this.live };
    const worker = new Worker(this.opts.entry ?? builtEntry('./writer-thread.js', import.meta.url), { workerData: data });
    worker.on('message', (msg: FromThread) => this.received(msg));
    worker.on('error', (err) => this.opts.logger.error({ err: err.message }, 'api thread failed'));
    worker.on('exit', (code) => this.exited(worker, code));
    worker.unref();
    return (this.worker = worker);
  }

  /** A thread that died fails what it held (the client may retry: PUTs are idempotent) and starts again after a backoff. */
  private exited(worker: Worker, code: number): void {
    if (this.worker === worker) this.worker = null;
    for (const p of this.pending.values()) p.reject(new ApiError(503, 'writer_unavailable', 'the writer restarted; nothing is known to be written, retry'));
    this.pending.clear();
    for (const answer of this.pendingHttp.values()) answer(unavailable('api_unavailable', 'the API thread restarted; nothing is known to be written, retry'));
    this.pendingHttp.clear();
    if (this.stopped) return;
    const waitMs = backoffMs(this.crashes++, RESTART_BASE_MS, RESTART_MAX_MS);
    this.downUntil = Date.now() + waitMs;
    this.opts.onCrash?.();
    this.opts.logger.warn({ code, restartInMs: waitMs }, 'api thread ended; starting a new one');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      try {
        this.start();
      } catch (err) {
        this.opts.logger.error({ err: errorMessage(err) }, 'api thread could not be started; the next request tries again');
      }
    }, waitMs);
    this.restartTimer.unref();
  }

  /** One /api/v1 request (http/v1-forward.ts); `now` is the gateway's clock at its arrival. Never rejects. */
  answer(req: V1Request, now: number = Date.now()): Promise<V1Reply> {
    if (this.stopped) return Promise.resolve(unavailable('stopping', 'the gateway is stopping'));
    if (!this.worker && Date.now() < this.downUntil) return Promise.resolve(unavailable('api_unavailable', 'the API thread is restarting; retry'));
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pendingHttp.set(id, resolve);
      this.enqueue({ kind: 'http', id, req, now }, req.body === null ? undefined : req.body);
    });
  }

  private send(op: WriteOp, args: unknown[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(new ApiError(503, 'stopping', 'the gateway is stopping'));
    if (!this.worker && Date.now() < this.downUntil) return Promise.reject(new ApiError(503, 'writer_unavailable', 'the writer is restarting; nothing was written, retry'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const last = this.outbox.at(-1);
      if (last?.kind === 'writes') last.batch.push({ id, op, args });
      else this.enqueue({ kind: 'writes', batch: [{ id, op, args }] });
    });
  }

  private enqueue(msg: ToThread, transfer?: ArrayBuffer): void {
    this.outbox.push(msg);
    if (transfer) this.transfers.push(transfer);
    if (this.outbox.length === 1) setImmediate(() => this.flushOutbox());
  }

  /**
   * The messages of one loop turn go to the thread in one postMessage. A postMessage was the
   * main thread's largest single cost per PUT in the bench's profile (serializing, and waking
   * the thread, which on two busy cores takes the core from the loop); eight clients' requests
   * read in the same turn pay it once. They still commit as before: each its own savepoint.
   */
  private flushOutbox(): void {
    const batch = this.outbox;
    const transfers = this.transfers;
    this.outbox = [];
    this.transfers = [];
    const worker = this.stopped ? null : this.startedOrNull();
    if (worker) return worker.postMessage(batch, transfers);
    // Stopped, or restarting, in between: never start a thread again after a stop; the callers may retry.
    const [code, message] = this.stopped ? ['stopping', 'the gateway is stopping'] : ['api_unavailable', 'the API thread is restarting; retry'];
    for (const msg of batch) {
      if (msg.kind === 'http') this.settleHttp(msg.id, unavailable(code, message));
      if (msg.kind !== 'writes') continue;
      for (const { id } of msg.batch) {
        this.pending.get(id)?.reject(new ApiError(503, code, message));
        this.pending.delete(id);
      }
    }
  }

  /** The thread, started if need be; a start that throws is logged and answered like a restart (this runs in a setImmediate). */
  private startedOrNull(): Worker | null {
    try {
      return this.thread();
    } catch (err) {
      this.opts.logger.error({ err: errorMessage(err) }, 'api thread could not be started; requests get 503 until it is');
      return null;
    }
  }

  private received(msg: FromThread): void {
    if (msg.kind === 'log') return relayThreadLog(this.opts.logger, msg.line);
    this.crashes = 0;
    if (msg.kind === 'http') return this.httpDone(msg);
    this.writeDone(msg.reply);
  }

  private settleHttp(id: number, reply: V1Reply): void {
    const answer = this.pendingHttp.get(id);
    this.pendingHttp.delete(id);
    answer?.(reply);
  }

  private httpDone(done: HttpDone): void {
    if (done.nudge) this.opts.nudge?.();
    if (done.seq === undefined) return this.settleHttp(done.id, done.reply);
    // "The API answers a write only when doors know it": the reply waits for the index, on either outcome of the wait.
    const send = () => this.settleHttp(done.id, done.reply);
    void this.opts.afterCommit(done.seq).then(send, send);
  }

  private writeDone(reply: WriterReply): void {
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

  /** Lets the thread close its connections; past `boundMs` it is terminated (the store's file lock goes with it). */
  async stop(boundMs = 1000): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
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
