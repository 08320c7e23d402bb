import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { ResourceConfig, UpstreamConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { SubscriptionRecord } from '../store/upstream-state.js';
import type { Clock, Timer } from '../util/clock.js';
import { Limiter } from '../util/limiter.js';
import type { FailureCounter } from '../util/guarded.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { rederiveBookingGrants, type Grace } from './booking-apply.js';
import { UpstreamClient } from './client.js';
import { UpstreamHealth, type UpstreamState } from './health.js';
import { Reconciler, type ReconcileReport } from './reconciler.js';
import { ReplayGuard } from './replay-guard.js';
import { RenewalTimer } from './renewal-timer.js';
import { SubscriptionManager } from './subscriptions.js';
import { createWebhookApp, type CallbackCounters } from './webhook.js';

export type { ReconcileReport } from './reconciler.js';
export type { UpstreamState } from './health.js';

/**
 * Daily-list fetches that callbacks may have in flight at once, all callbacks together (the
 * sweep has its own 16): a burst of callbacks, or one long booking naming many dates, must not
 * turn into hundreds of concurrent calls and a 429 storm.
 */
const CALLBACK_FETCH_CONCURRENCY = 8;

export interface UpstreamStatus {
  state: UpstreamState;
  lastError: string | null;
  lastSuccessAt: number | null;
  lastReconcile: ReconcileReport | null;
  subscriptions: { id: string; resources: string[]; expiresAt: number; state: SubscriptionRecord['state'] }[];
  /** Mapped resource ids the platform does not have: no callbacks (nor bookings) for them. */
  unknownResources: string[];
  callbacks: CallbackCounters;
}

export interface UpstreamSyncOptions {
  config: UpstreamConfig;
  grace: Grace;
  resources: ResourceConfig[];
  store: Store;
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch;
  token: string;
  random?: (n: number) => Buffer;
  /** Where failed background runs (a renewal) are counted: lintel_background_errors_total{task}. */
  countFailure?: FailureCounter;
  /**
   * Which location's link this is (config/locations.ts): its stored subscriptions and replay
   * ids are its own. Default: '' and unprefixed, a link outside a gateway (tests, benches).
   */
  location?: { key: string; replayPrefix: string };
}

type GraceOverride = { graceBeforeMinutes?: number; graceAfterMinutes?: number };

/**
 * The booking-platform link, composed: client + health, subscriptions, the signed callback
 * endpoint, and the reconciler that turns daily lists into grants. Network work never blocks the
 * caller: start() returns at once and the gateway decides from SQLite whatever the platform does.
 */
export class UpstreamSync {
  readonly client: UpstreamClient;
  private readonly health: UpstreamHealth;
  private readonly subscriptions: SubscriptionManager;
  private readonly renewal: RenewalTimer;
  private readonly reconciler: Reconciler;
  private readonly replay: ReplayGuard;
  private readonly counters: CallbackCounters = { accepted: 0, duplicates: 0, rejected: {} };
  private resources: ResourceConfig[];
  private token: string;
  private lastReconcile: ReconcileReport | null = null;
  private interval: Timer | null = null;
  private readonly background = new Set<Promise<unknown>>();
  private readonly callbackFetches = new Limiter(CALLBACK_FETCH_CONCURRENCY);
  private stopped = false;
  private overrideCache: { from: ResourceConfig[]; map: Map<string, GraceOverride> } | null = null;

  constructor(private readonly opts: UpstreamSyncOptions) {
    this.resources = opts.resources;
    this.token = opts.token;
    this.health = new UpstreamHealth(opts.clock, opts.token.length > 0);
    this.client = new UpstreamClient({
      baseUrl: opts.config.baseUrl,
      token: opts.token,
      requestTimeoutMs: opts.config.requestTimeoutMs,
      clock: opts.clock,
      health: this.health,
      fetch: opts.fetch,
    });
    this.replay = new ReplayGuard(opts.store, opts.clock, opts.location?.replayPrefix ?? '');
    this.subscriptions = new SubscriptionManager({
      client: this.client,
      store: opts.store,
      clock: opts.clock,
      logger: opts.logger,
      callbackUrl: opts.config.callbackUrl,
      renewBeforeMs: opts.config.renewBeforeSec * 1000,
      random: opts.random ?? randomBytes,
      location: opts.location?.key ?? '',
    });
    this.subscriptions.setResources(this.mappedIds());
    this.renewal = new RenewalTimer({
      clock: opts.clock,
      logger: opts.logger,
      countFailure: opts.countFailure,
      ensure: () => this.subscriptions.ensure(),
      dueAt: () => this.subscriptions.renewalDueAt(),
      needed: () => this.subscriptions.wantsSubscription(),
      blockedUntil: () => this.health.blockedUntil,
      track: (run) => this.track(run),
    });
    this.reconciler = new Reconciler({
      client: this.client,
      store: opts.store,
      clock: opts.clock,
      logger: opts.logger,
      grace: () => opts.grace,
      overrides: () => this.overrides(),
      mappedResources: () => this.mappedIds(),
      countFailure: opts.countFailure,
    });
  }

  /** Never throws and never waits for the network: subscribing and the first sweep run behind. */
  async start(): Promise<void> {
    if (this.health.state === 'disabled') this.opts.logger.warn('no upstream token: booking sync disabled until one is configured');
    this.track(this.tick());
    this.interval = this.opts.clock.setInterval(() => this.track(this.tick()), this.opts.config.reconcileIntervalSec * 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.interval?.cancel();
    this.interval = null;
    this.renewal.stop();
    this.reconciler.stop();
    await this.idle();
  }

  /** Resolves when no fetch, sweep or callback follow-up is in flight (tests, benchmarks, stop). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
    await this.reconciler.idle();
  }

  webhookApp(): Hono {
    return createWebhookApp({
      subscriptions: this.subscriptions,
      replay: this.replay,
      clock: this.opts.clock,
      logger: this.opts.logger,
      maxBytes: this.opts.config.maxCallbackBytes,
      counters: this.counters,
      isMapped: (id) => this.overrides().has(id),
      onEvent: (event) => this.track(this.refreshDates(event.resourceId, event.dates)),
    });
  }

  /** The dates of one callback, through the limiter all callbacks share. */
  private async refreshDates(resourceId: string, dates: readonly string[]): Promise<void> {
    await Promise.all(dates.map((date) => this.callbackFetches.run(() => this.reconciler.refresh(resourceId, date))));
  }

  /** A config reload: a new token is tried at once (a 401 backoff is forgotten). */
  setToken(token: string): void {
    const wasBad = this.health.state === 'unauthorized' || this.health.state === 'disabled';
    if (token === this.token && !wasBad) return;
    this.token = token;
    this.client.setToken(token);
    if (token.length === 0) return;
    this.opts.logger.info('upstream token replaced');
    this.reconciler.retryNow();
    this.track(this.tick());
  }

  /**
   * The resource → door mapping (already synced into SQLite by the caller) or the resource list
   * changed: re-derive booking grants of the changed resources (and of those whose grace changed)
   * in one transaction, then resubscribe and fetch in the background.
   */
  async mappingChanged(resourceIds: string[], resources: ResourceConfig[]): Promise<void> {
    const before = this.overrides();
    const beforeIds = this.mappedIds();
    this.resources = resources;
    const after = this.overrides();
    const affected = new Set(resourceIds);
    for (const r of resources) {
      const o = before.get(r.id);
      if (o?.graceBeforeMinutes !== r.graceBeforeMinutes || o?.graceAfterMinutes !== r.graceAfterMinutes) affected.add(r.id);
    }
    const n = rederiveBookingGrants(this.opts.store, [...affected], this.opts.grace, after, this.opts.clock.now());
    this.opts.logger.info({ resources: affected.size, appointments: n }, 'booking grants re-derived after a mapping change');
    this.subscriptions.setResources(this.mappedIds());
    const added = this.mappedIds().filter((id) => !beforeIds.includes(id));
    this.track(
      (async () => {
        await this.ensureSubscription();
        if (added.length > 0) await this.reconciler.reconcile(added);
      })(),
    );
  }

  /** A full sweep now (also what the interval runs). */
  async reconcileNow(): Promise<ReconcileReport> {
    const report = await this.reconciler.reconcile();
    this.lastReconcile = report;
    if (report.failed === 0) this.opts.logger.debug({ ...report }, 'reconciled');
    else this.opts.logger.warn({ ...report }, 'reconciled with failures; cached grants kept');
    return report;
  }

  status(): UpstreamStatus {
    return {
      state: this.health.state,
      lastError: this.health.lastError,
      lastSuccessAt: this.health.lastSuccessAt,
      lastReconcile: this.lastReconcile,
      subscriptions: this.subscriptions.live().map((s) => ({ id: s.subscriptionId, resources: s.resourceIds, expiresAt: s.expiresAt, state: s.state })),
      unknownResources: this.subscriptions.unknownResources(),
      callbacks: { accepted: this.counters.accepted, duplicates: this.counters.duplicates, rejected: { ...this.counters.rejected }, lastAcceptedAt: this.counters.lastAcceptedAt ?? null },
    };
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.health.state === 'disabled') return;
    try {
      this.replay.prune();
      this.reconciler.pruneEnded();
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'upstream housekeeping failed');
    }
    await this.ensureSubscription();
    await this.reconcileNow();
  }

  /** A sweep's or a mapping change's check; either way the renewal timer is set from its outcome. */
  private async ensureSubscription(): Promise<void> {
    if (this.stopped) return;
    let ok = true;
    try {
      await this.subscriptions.ensure();
    } catch (err) {
      ok = false;
      this.opts.logger.warn({ err: (err as Error).message }, 'subscription not renewed; retrying, and reconciling meanwhile');
    }
    this.renewal.settled(ok);
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch((err: unknown) => {
      this.opts.countFailure?.('upstream-background');
      this.opts.logger.error({ err: errorMessage(err) }, 'upstream background task failed');
    });
    this.background.add(guarded);
    void guarded.finally(() => this.background.delete(guarded));
  }

  private mappedIds(): string[] {
    return this.resources.map((r) => r.id);
  }

  private overrides(): Map<string, GraceOverride> {
    // Built once per resource list: every applied daily list asks for it.
    if (this.overrideCache?.from !== this.resources) {
      const map = new Map(this.resources.map((r) => [r.id, { graceBeforeMinutes: r.graceBeforeMinutes, graceAfterMinutes: r.graceAfterMinutes }]));
      this.overrideCache = { from: this.resources, map };
    }
    return this.overrideCache.map;
  }
}
