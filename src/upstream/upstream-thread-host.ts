import { builtEntry } from '../util/worker-entry.js';
import { Hono } from 'hono';
import { Worker } from 'node:worker_threads';
import type { ReconcileReport } from './reconciler.js';
import type { LevelWithSilent } from 'pino';
import type { Config, ResourceConfig } from '../config/schema.js';
import { backoffMs, type Clock, type Timer } from '../util/clock.js';
import { bounded } from '../util/bounded.js';
import { errorMessage } from '../util/errors.js';
import type { FailureCounter } from '../util/guarded.js';
import type { Logger } from '../util/log.js';
import { answerThroughHono } from '../http/webhook-fast-path.js';
import { UpstreamClient } from './client.js';
import { UpstreamHealth } from './health.js';
import { BUSY_RETRY_AFTER_SEC } from './replay-guard.js';
import type { CallbackReply, UpstreamLink } from './upstream-link.js';
import type { UpstreamStatus } from './upstream-sync.js';
import { relayThreadLog } from './worker/thread-log.js';
import type { CallbackAnswer, FromThread, ThreadInit, ToThread } from './worker/protocol.js';

/** Only these reach the thread: what the webhook reads, nothing a client could use to grow a message. */
const FORWARDED_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type'] as const;
/** A callback the thread has not answered by then gets a 503: the platform retries it. */
const ANSWER_TIMEOUT_MS = 10_000;
/** A sweep fetches every mapped resource's list (each fetch has its own timeout): minutes at most. */
const RECONCILE_TIMEOUT_MS = 120_000;
/** Restart backoff after a crash, and how long a thread must run before its crash counts as a new one. */
const RESTART_BASE_MS = 1000;
const RESTART_MAX_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;
/** The thread's heap is bounded: a runaway there ends (and restarts) the thread, never the gateway. */
const THREAD_HEAP_MB = 256;
const STOP_WAIT_MS = 1800;

export interface UpstreamThreadOptions {
  config: Config;
  token: string;
  clock: Clock;
  logger: Logger;
  countFailure: FailureCounter;
  /** The thread committed to SQLite: apply change_log now. */
  onCommitted: () => void;
  /** The thread's entry; default the built upstream-thread.js beside this file. */
  entry?: URL;
  /** Which location's link (config/locations.ts): the thread's stored state is scoped by it. */
  location?: { key: string; replayPrefix: string };
}

/** Threads spawned and not yet exited, in this process: a reload storm must not leak any (tests read it). */
let liveThreads = 0;
export function liveUpstreamThreads(): number {
  return liveThreads;
}

/** Under vitest this file runs from src/ as TypeScript; a worker thread can only run the build in dist/. */
export function threadEntry(): URL {
  return builtEntry('./worker/upstream-thread.js', import.meta.url);
}

/**
 * The main thread's side of the upstream thread: forwards signed callbacks and answers them,
 * passes token and mapping changes on, keeps the thread's latest status, and restarts a thread
 * that died (with backoff; meanwhile callbacks get 503 + Retry-After, which the platform
 * retries, and doors decide from SQLite as always). The visitor gate's client stays here.
 */
export class UpstreamThread implements UpstreamLink {
  readonly client: UpstreamClient;
  private worker: Worker | null = null;
  private token: string;
  private resources: ResourceConfig[];
  private logLevel: LevelWithSilent;
  private latest: UpstreamStatus | null = null;
  private readonly pending = new Map<number, (a: CallbackAnswer | null) => void>();
  private readonly reconciles = new Map<number, (report: ReconcileReport | null, error: string | null) => void>();
  private nextId = 1;
  private crashes = 0;
  private spawnedAt = 0;
  private restartTimer: Timer | null = null;
  private down: string | null = null;
  private stopped = false;
  /** Refusals made here, before the thread saw the callback (too large, thread down). */
  private readonly refusedHere: Record<string, number> = {};

  constructor(private readonly opts: UpstreamThreadOptions) {
    this.token = opts.token;
    this.resources = opts.config.resources;
    this.logLevel = opts.config.log.level;
    const up = opts.config.upstream!;
    this.client = new UpstreamClient({
      baseUrl: up.baseUrl,
      token: opts.token,
      requestTimeoutMs: up.requestTimeoutMs,
      clock: opts.clock,
      health: new UpstreamHealth(opts.clock, opts.token.length > 0),
    });
  }

  /** Never waits for the platform: the thread subscribes and sweeps on its own. */
  start(): Promise<void> {
    this.spawn();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.restartTimer?.cancel();
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies ToThread);
    // A thread stuck in a fetch or a lock wait is terminated: its commits are in SQLite already.
    if ((await bounded('upstream thread', () => exited, STOP_WAIT_MS, this.opts.logger)) === 'timeout') await worker.terminate();
    this.answerAll(null);
  }

  /** The token it runs with (a reload that fails after stopping the link restarts it with the same). */
  currentToken(): string {
    return this.token;
  }

  setToken(token: string): void {
    this.token = token;
    this.client.setToken(token);
    this.send({ type: 'token', token });
  }

  setLogLevel(level: LevelWithSilent): void {
    this.logLevel = level;
    this.send({ type: 'log-level', level });
  }

  mappingChanged(changed: string[], resources: ResourceConfig[]): Promise<void> {
    this.resources = resources;
    this.send({ type: 'mapping', changed, resources });
    return Promise.resolve();
  }

  /** Answered by the thread when its sweep ends; bounded, as a callback's answer is. */
  reconcileNow(): Promise<ReconcileReport> {
    const worker = this.worker;
    if (!worker || this.down) return Promise.reject(new Error('the booking link is restarting; try again'));
    const id = this.nextId++;
    return new Promise<ReconcileReport>((resolve, reject) => {
      const timer = setTimeout(() => this.settleReconcile(id, null, 'the booking link did not answer in time'), RECONCILE_TIMEOUT_MS);
      this.reconciles.set(id, (report, error) => {
        clearTimeout(timer);
        if (report) resolve(report);
        else reject(new Error(error ?? 'reconciliation failed'));
      });
      worker.postMessage({ type: 'reconcile', id } satisfies ToThread);
    });
  }

  private settleReconcile(id: number, report: ReconcileReport | null, error: string | null): void {
    const settle = this.reconciles.get(id);
    this.reconciles.delete(id);
    settle?.(report, error);
  }

  status(): UpstreamStatus {
    const base: UpstreamStatus = this.latest ?? {
      state: this.token.length > 0 ? 'degraded' : 'disabled',
      lastError: null,
      lastSuccessAt: null,
      lastReconcile: null,
      subscriptions: [],
      unknownResources: [],
      callbacks: { accepted: 0, duplicates: 0, rejected: {} },
    };
    const rejected = { ...base.callbacks.rejected };
    for (const [status, n] of Object.entries(this.refusedHere)) rejected[status] = (rejected[status] ?? 0) + n;
    const state = this.down && base.state !== 'disabled' ? 'degraded' : base.state;
    return { ...base, state, lastError: this.down ?? base.lastError, callbacks: { ...base.callbacks, rejected } };
  }

  /** The Hono face of answerCallback (app.request() tests; the gateway's server has a fast path to it). */
  webhookApp(): Hono {
    const app = new Hono();
    app.post('/', (c) => answerThroughHono(c, { endpoint: this, maxBytes: this.opts.config.upstream!.maxCallbackBytes }));
    return app;
  }

  refuseTooLarge(): CallbackReply {
    return this.refuse(413, 'body too large');
  }

  async answerCallback(header: (name: string) => string | undefined, body: Buffer): Promise<CallbackReply> {
    const worker = this.worker;
    if (!worker || this.down) return this.refuse(503, 'booking link restarting; retry');
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_HEADERS) {
      const v = header(name);
      if (v !== undefined) headers[name] = v;
    }
    const id = this.nextId++;
    const answered = new Promise<CallbackAnswer | null>((resolve) => this.pending.set(id, resolve));
    const timer = setTimeout(() => this.answer(id, null), ANSWER_TIMEOUT_MS);
    worker.postMessage({ type: 'callback', id, headers, body } satisfies ToThread);
    const a = await answered;
    clearTimeout(timer);
    if (!a) return this.refuse(503, 'booking link did not answer; retry');
    return { status: a.status, headers: a.headers, body: a.body };
  }

  private refuse(status: 413 | 503, error: string): CallbackReply {
    this.refusedHere[status] = (this.refusedHere[status] ?? 0) + 1;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 503) headers['retry-after'] = String(BUSY_RETRY_AFTER_SEC);
    return { status, headers, body: JSON.stringify({ error }) };
  }

  private spawn(): void {
    const init: ThreadInit = {
      config: { ...this.opts.config, resources: this.resources },
      token: this.token,
      logLevel: this.logLevel,
      ...(this.opts.location ? { location: this.opts.location } : {}),
    };
    const worker = new Worker(this.opts.entry ?? threadEntry(), { workerData: init, resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB } });
    this.worker = worker;
    liveThreads++;
    worker.once('exit', () => liveThreads--);
    this.spawnedAt = this.opts.clock.now();
    this.down = null;
    worker.on('message', (msg: FromThread) => this.onMessage(msg));
    worker.on('error', (err) => this.opts.logger.error({ err: errorMessage(err) }, 'upstream thread failed'));
    worker.on('exit', (code) => this.onExit(worker, code));
  }

  private onMessage(msg: FromThread): void {
    switch (msg.type) {
      case 'answer':
        return this.answer(msg.id, msg);
      case 'reconciled':
        return this.settleReconcile(msg.id, msg.report, msg.error);
      case 'status':
        this.latest = msg.status;
        return;
      case 'committed':
        return this.opts.onCommitted();
      case 'failure':
        return this.opts.countFailure(msg.task);
      case 'log':
        return relayThreadLog(this.opts.logger, msg.line);
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return; // stopped on purpose
    this.worker = null;
    this.answerAll(null);
    this.scheduleRestart(`exit ${code}`);
  }

  private scheduleRestart(why: string): void {
    if (this.stopped) return;
    if (this.opts.clock.now() - this.spawnedAt >= HEALTHY_AFTER_MS) this.crashes = 0;
    const waitMs = backoffMs(this.crashes++, RESTART_BASE_MS, RESTART_MAX_MS);
    this.down = `booking link thread stopped (${why}); restarting in ${Math.round(waitMs / 1000)} s`;
    this.opts.countFailure('upstream-thread');
    this.opts.logger.error({ why, waitMs }, 'upstream thread stopped; restarting it; doors keep deciding from the local cache');
    this.restartTimer = this.opts.clock.setTimeout(() => {
      this.restartTimer = null;
      if (this.stopped) return;
      try {
        this.spawn();
      } catch (err) {
        this.scheduleRestart(errorMessage(err));
      }
    }, waitMs);
  }

  private answer(id: number, a: CallbackAnswer | null): void {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    resolve(a);
  }

  /** The thread stopped or died: every callback and reconciliation waiting on it is answered now. */
  private answerAll(a: null): void {
    for (const id of [...this.pending.keys()]) this.answer(id, a);
    for (const id of [...this.reconciles.keys()]) this.settleReconcile(id, null, 'the booking link stopped');
  }

  private send(msg: ToThread): void {
    this.worker?.postMessage(msg);
  }
}
