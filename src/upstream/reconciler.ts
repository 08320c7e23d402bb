import { errorMessage } from '../util/errors.js';
import { runGuarded, type FailureCounter } from '../util/guarded.js';
import { performance } from 'node:perf_hooks';
import { endedAppointmentIds } from '../store/appointments.js';
import type { Store } from '../store/store.js';
import { resourceTimeZones } from '../store/upstream-state.js';
import type { Clock, Timer } from '../util/clock.js';
import { Limiter } from '../util/limiter.js';
import type { Logger } from '../util/log.js';
import { ApplyBatcher } from '../store/apply-batcher.js';
import { applyDailyList, applyResourceGone, policyFrom, pruneEndedAppointments, type ApplyResult, type Grace } from './booking-apply.js';
import { UpstreamError, type UpstreamClient } from './client.js';
import { FetchCoalescer } from './fetch-coalescer.js';
import type { DailyList } from './schemas.js';
import { addDays, hostTimeZone, localDateOf } from './tz-dates.js';

export interface ReconcileReport {
  at: number;
  durationMs: number;
  resources: number;
  appointments: number;
  changed: number;
  /** (resource, date) fetches that failed; their cached grants were kept */
  failed: number;
}

/** Several links' sweeps as one (the console's "reconcile now"): sums, the latest end and the longest sweep. */
export function sumReports(reports: readonly ReconcileReport[]): ReconcileReport {
  const sum = (k: 'resources' | 'appointments' | 'changed' | 'failed') => reports.reduce((n, r) => n + r[k], 0);
  return {
    at: Math.max(...reports.map((r) => r.at)),
    durationMs: Math.max(...reports.map((r) => r.durationMs)),
    resources: sum('resources'),
    appointments: sum('appointments'),
    changed: sum('changed'),
    failed: sum('failed'),
  };
}

type Outcome = { ok: true; result: ApplyResult } | { ok: false; error: string };

/** Appointments ended this long ago are forgotten (their grants expired long before). */
const KEEP_ENDED_MS = 7 * 86_400_000;
const CONCURRENCY = 16;
const RETRYABLE = new Set(['unauthorized', 'rate_limited', 'server', 'network', 'timeout', 'backoff']);

export interface ReconcilerOptions {
  client: UpstreamClient;
  store: Store;
  clock: Clock;
  logger: Logger;
  grace: () => Grace;
  overrides: () => ReadonlyMap<string, { graceBeforeMinutes?: number; graceAfterMinutes?: number }>;
  mappedResources: () => readonly string[];
  /** Where a failed retry drain is counted: lintel_background_errors_total{task}. */
  countFailure?: FailureCounter;
  /** Zone for dates of a resource whose zone is not known yet (default: the host's). */
  hostZone?: string;
}

/**
 * Fetches daily lists and applies them, one transaction per list. Every fetch — from a callback,
 * a retry or the periodic sweep — goes through one coalescer, so a (resource, date) is never
 * fetched twice at once. A failed fetch deletes nothing: the cache keeps deciding, and the key is
 * retried when the backoff gate opens. A 404 is no failure but an answer: the resource is gone.
 */
export class Reconciler {
  private readonly coalescer = new FetchCoalescer<Outcome>((key) => this.fetchAndApply(key));
  /** Sweep and retry fetches in flight at once (callbacks have their own limit). */
  private readonly fetches = new Limiter(CONCURRENCY);
  private readonly batcher: ApplyBatcher;
  private readonly retryKeys = new Set<string>();
  private retryTimer: Timer | null = null;
  private sweep: Promise<ReconcileReport> | null = null;
  private stopped = false;

  constructor(private readonly opts: ReconcilerOptions) {
    this.batcher = new ApplyBatcher(opts.store);
  }

  /** Fetch (resource, date) now, or once more after the fetch already in flight. */
  refresh(resourceId: string, date: string): Promise<Outcome> {
    return this.coalescer.request(`${resourceId}\n${date}`);
  }

  /** Yesterday, today and tomorrow in each resource's last-seen zone, for every mapped resource. */
  reconcile(only?: readonly string[]): Promise<ReconcileReport> {
    if (this.sweep && !only) return this.sweep;
    const run = this.runSweep(only ?? this.opts.mappedResources());
    if (!only) this.sweep = run.finally(() => (this.sweep = null));
    return run;
  }

  /** Housekeeping on each sweep: ended appointments and their grants. */
  pruneEnded(): void {
    const ids = endedAppointmentIds(this.opts.store, this.opts.clock.now() - KEEP_ENDED_MS);
    if (ids.length > 0) this.opts.store.transact((tx) => pruneEndedAppointments(tx, ids));
  }

  /** The retry queue, now (a new token, a recovered link). */
  retryNow(): void {
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.kickRetries();
  }

  async idle(): Promise<void> {
    await this.sweep?.catch(() => undefined);
    await this.coalescer.idle();
  }

  stop(): void {
    this.stopped = true;
    this.batcher.stop();
    this.retryTimer?.cancel();
    this.retryTimer = null;
  }

  private async runSweep(resources: readonly string[]): Promise<ReconcileReport> {
    const at = this.opts.clock.now();
    const started = performance.now();
    const zones = resourceTimeZones(this.opts.store);
    const host = this.opts.hostZone ?? hostTimeZone();
    const threeDays = (zone: string): string[] => {
      const today = localDateOf(at, zone);
      return [addDays(today, -1), today, addDays(today, 1)];
    };
    const report: ReconcileReport = { at, durationMs: 0, resources: resources.length, appointments: 0, changed: 0, failed: 0 };
    const fetch = async (resourceId: string, date: string): Promise<Outcome> => {
      const outcome = await this.fetches.run(() => this.refresh(resourceId, date));
      if (outcome.ok) {
        report.appointments += outcome.result.appointments;
        report.changed += outcome.result.changed;
      } else report.failed++;
      return outcome;
    };
    await Promise.all(
      resources.map(async (resourceId) => {
        const zone = zones.get(resourceId);
        if (zone) {
          await Promise.all(threeDays(zone).map((date) => fetch(resourceId, date)));
          return;
        }
        // Zone not known yet (no list applied so far): host-zone dates can be a day off the
        // resource's (host on UTC, room in Auckland: its "tomorrow" would wait a whole interval).
        // So one date first, whose list names the zone, then the resource's own three dates.
        const probe = localDateOf(at, host);
        const outcome = await fetch(resourceId, probe);
        // A failed or 404 probe teaches nothing: fall back to the host's dates, as before.
        const learned = (outcome.ok ? outcome.result.timeZone : undefined) ?? host;
        await Promise.all(threeDays(learned).filter((date) => date !== probe).map((date) => fetch(resourceId, date)));
      }),
    );
    report.durationMs = Math.round((performance.now() - started) * 10) / 10;
    return report;
  }

  private async fetchAndApply(key: string): Promise<Outcome> {
    const [resourceId, date] = key.split('\n') as [string, string];
    const { clock, logger } = this.opts;
    try {
      const list = await this.fetchList(resourceId, date);
      const result = await this.batcher.apply((tx) =>
        list ? applyDailyList(tx, list, policyFrom(tx, this.opts.grace(), this.opts.overrides()), clock.now()) : applyResourceGone(tx, resourceId, date),
      );
      if (!list) logger.warn({ resourceId, date, revoked: result.changed }, 'platform does not know this resource (404): its bookings on this date are gone');
      else if (result.changed > 0) logger.debug({ resourceId, date, changed: result.changed }, 'booking list applied');
      return { ok: true, result };
    } catch (err) {
      const message = errorMessage(err);
      if (err instanceof UpstreamError && RETRYABLE.has(err.kind)) this.queueRetry(key);
      if (!(err instanceof UpstreamError && err.kind === 'backoff')) logger.warn({ resourceId, date, err: message }, 'daily list fetch failed; keeping cached grants');
      return { ok: false, error: message };
    }
  }

  /**
   * The list, or null for a 404 (spec §5: unknown resource) that the platform's own resource
   * list confirms. A 404 revokes, so it must be the platform speaking: a wrong baseUrl or a
   * proxy that 404s every path would otherwise close every booked door. Other failures throw.
   */
  private async fetchList(resourceId: string, date: string): Promise<DailyList | null> {
    try {
      return await this.opts.client.dailyList(resourceId, date);
    } catch (err) {
      if (!(err instanceof UpstreamError && err.kind === 'not_found')) throw err;
      const listed = (await this.opts.client.resources()).some((r) => r.resourceId === resourceId);
      if (!listed) return null;
      throw new UpstreamError('http', `404 for ${resourceId} on ${date}, yet the platform lists the resource: nothing revoked`, 404);
    }
  }

  private queueRetry(key: string): void {
    if (this.stopped) return;
    this.retryKeys.add(key);
    if (this.retryTimer) return;
    const health = this.opts.client.health;
    const delay = Math.max(1000, health.blockedUntil - this.opts.clock.now());
    this.retryTimer = this.opts.clock.setTimeout(() => {
      this.retryTimer = null;
      this.kickRetries();
    }, delay);
  }

  /** Fetch failures come back as outcomes; anything else thrown here is logged and counted, never a dead process. */
  private kickRetries(): void {
    void runGuarded('booking-retry', () => this.drainRetries(), { logger: this.opts.logger, countFailure: this.opts.countFailure });
  }

  /** One key first as a probe (a revoked token costs one call, not hundreds), then the rest. */
  private async drainRetries(): Promise<void> {
    const keys = [...this.retryKeys];
    this.retryKeys.clear();
    const [probe, ...rest] = keys;
    if (probe === undefined) return;
    try {
      const first = await this.coalescer.request(probe);
      if (!first.ok) {
        for (const k of rest) this.queueRetry(k);
        return;
      }
      await Promise.all(rest.map((k) => this.fetches.run(() => this.coalescer.request(k))));
    } catch (err) {
      // Not a fetch failure (those are outcomes): keep every key for the next drain, one extra fetch at worst.
      for (const k of keys) this.queueRetry(k);
      throw err;
    }
  }
}
