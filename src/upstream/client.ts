import { errorMessage } from '../util/errors.js';
import type { z } from 'zod';
import type { Clock } from '../util/clock.js';
import { UpstreamHealth, type FailureKind } from './health.js';
import {
  createSubscriptionResponseSchema,
  dailyListSchema,
  informationSchema,
  resourcesSchema,
  visitSchema,
  type DailyList,
  type Information,
  type UpstreamResource,
} from './schemas.js';
import type { VisitLookup, VisitVerifier } from './visit-lookup.js';
import { readCapped } from '../util/read-capped.js';

export class UpstreamError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status: number | null = null,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface UpstreamClientOptions {
  baseUrl: string;
  token: string;
  requestTimeoutMs: number;
  clock: Clock;
  health: UpstreamHealth;
  fetch?: typeof fetch;
  /** Answers larger than this are not read (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

/**
 * The largest answer the client reads. The largest the contract produces is a daily list of a
 * busy resource or the resource list of a big site: hundreds of KiB. 4 MiB is far beyond that
 * and small enough that a broken proxy or a hostile platform cannot grow the process: a body
 * past it is cut off while it streams in and the call counts as a contract fault.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** A retry-after beyond this is not believed (one day): the gate must reopen some time. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * `retry-after` as non-negative delta seconds (the spec: seconds; decimals such as "1.5" allowed)
 * or an HTTP date, in ms capped at one day; undefined when absent or unreadable, so the normal
 * backoff applies.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(v)) return Math.min(Math.round(Number(v) * 1000), MAX_RETRY_AFTER_MS);
  // Every HTTP date names its day and month. Without a letter it is a malformed number ("-1",
  // "1,5"), which Date.parse would read as a year long past: 0 ms, an immediate retry.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/**
 * The booking platform's API (upstream-api.md). Every call carries the token, has a deadline,
 * passes the backoff gate and has its body validated whole; every outcome feeds the health.
 */
export class UpstreamClient implements VisitVerifier {
  private token: string;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: UpstreamClientOptions) {
    this.token = opts.token;
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? globalThis.fetch;
  }

  get health(): UpstreamHealth {
    return this.opts.health;
  }

  setToken(token: string): void {
    this.token = token;
    this.opts.health.tokenChanged(token.length > 0);
  }

  information(): Promise<Information> {
    return this.call('GET', '/API/external/system/v1/information', undefined, informationSchema);
  }

  async resources(): Promise<UpstreamResource[]> {
    return (await this.call('GET', '/API/external/booking/v1/resources', undefined, resourcesSchema)).resources;
  }

  async createSubscription(callUrl: string, resourceIds: readonly string[], secret: string): Promise<{ subscriptionId: string; expiresAt: number }> {
    const r = await this.call('POST', '/API/external/booking/v1/subscriptions', { callUrl, resourceIds, secret }, createSubscriptionResponseSchema, 201);
    return { subscriptionId: r.subscriptionId, expiresAt: Date.parse(r.expiresAt) };
  }

  /** 204; a 404 means it is already gone, which is what we wanted. */
  /**
   * `once`: a disconnect's last word (upstream/unsubscribe.ts): its own deadline, and tried even
   * while backing off, since there is no later retry by this link.
   */
  async deleteSubscription(subscriptionId: string, once?: { timeoutMs: number }): Promise<void> {
    try {
      const opt = once ? { notFoundOk: true, timeoutMs: once.timeoutMs, bypassGate: true } : { notFoundOk: true };
      await this.call('DELETE', `/API/external/booking/v1/subscriptions/${encodeURIComponent(subscriptionId)}`, undefined, null, 204, opt);
    } catch (err) {
      if (err instanceof UpstreamError && err.kind === 'not_found') return;
      throw err;
    }
  }

  async dailyList(resourceId: string, date: string): Promise<DailyList> {
    const path = `/API/external/booking/v1/resources/${encodeURIComponent(resourceId)}/appointments?date=${encodeURIComponent(date)}`;
    const list = await this.call('GET', path, undefined, dailyListSchema);
    if (list.resourceId !== resourceId || list.date !== date) {
      const err = new UpstreamError('invalid', `daily list for ${resourceId} ${date} names ${list.resourceId} ${list.date}`);
      this.opts.health.failure(err.kind, err.message);
      throw err;
    }
    return list;
  }

  /**
   * Section 6. Not held back by the backoff gate: a visitor stands at the door and the call has
   * its own short deadline; its outcome still feeds the health.
   */
  async verifyVisit(registrationCode: string, deviceId: string, timeoutMs = 2000): Promise<VisitLookup> {
    try {
      const v = await this.call('POST', '/API/external/receptionist/v1/visits/verify', { registrationCode, deviceId }, visitSchema, 200, {
        timeoutMs,
        bypassGate: true,
        notFoundOk: true,
      });
      return {
        kind: 'found',
        visit: {
          visitId: v.visitId,
          status: v.status,
          validFrom: Date.parse(v.validFrom),
          validTo: Date.parse(v.validTo),
          visitorEmail: v.visitor.email?.toLowerCase() ?? null,
          hostEmail: v.host.email?.toLowerCase() ?? null,
        },
      };
    } catch (err) {
      if (err instanceof UpstreamError && err.kind === 'not_found') return { kind: 'unknown' };
      if (err instanceof UpstreamError && err.kind === 'invalid' && err.status === 200) return { kind: 'unreadable', error: errorMessage(err) };
      return { kind: 'unreachable', error: errorMessage(err) };
    }
  }

  private authHeader(): string {
    return this.token;
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    body: unknown,
    schema: S | null,
    expect = 200,
    /** notFoundOk: a 404 is an answer (unknown visit code, subscription already gone), not a fault. */
    opt: { timeoutMs?: number; bypassGate?: boolean; notFoundOk?: boolean } = {},
  ): Promise<z.infer<S>> {
    const health = this.opts.health;
    const label = `${method} ${path.split('?')[0]}`;
    if (this.token.length === 0) throw new UpstreamError('backoff', 'no upstream token configured');
    if (!opt.bypassGate && health.blocked()) {
      throw new UpstreamError('backoff', `backing off until ${new Date(health.blockedUntil).toISOString()}: ${health.lastError ?? ''}`);
    }
    let res: Response;
    let text = '';
    let tooLarge = false;
    const cap = this.opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    // The deadline runs on the injected clock (not AbortSignal.timeout), so tests drive it with
    // fake time; it covers the body as well as the headers.
    const deadline = new AbortController();
    const timer = this.opts.clock.setTimeout(() => deadline.abort(), opt.timeoutMs ?? this.opts.requestTimeoutMs);
    try {
      const headers: Record<string, string> = { authorization: this.authHeader(), accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: deadline.signal,
      });
      const read = (await readCapped(res, cap))?.toString('utf8') ?? null;
      if (read === null) {
        tooLarge = true;
        // Hang up: whatever is still coming is not read, nor kept in a socket buffer.
        deadline.abort();
      } else text = read;
    } catch (err) {
      const timedOut = deadline.signal.aborted;
      throw this.fail(new UpstreamError(timedOut ? 'timeout' : 'network', `${label}: ${timedOut ? 'timed out' : errorText(err)}`));
    } finally {
      timer.cancel();
    }
    if (tooLarge) throw this.fail(new UpstreamError('invalid', `${label}: answer larger than ${cap} bytes; not read`, res.status));
    const keepRateLimit = opt.bypassGate === true;
    if (res.status === 404 && opt.notFoundOk) {
      health.success(keepRateLimit);
      throw new UpstreamError('not_found', `404 ${label}`, 404);
    }
    if (res.status !== expect) throw this.fail(statusError(label, res, this.opts.clock.now()));
    if (schema === null) {
      health.success(keepRateLimit);
      return undefined as z.infer<S>;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.fail(new UpstreamError('invalid', `${label}: body is not JSON`, res.status));
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.fail(new UpstreamError('invalid', `${label}: body does not match the contract (${issue?.path.join('.')}: ${issue?.message})`, res.status));
    }
    health.success(keepRateLimit);
    return parsed.data;
  }

  private fail(err: UpstreamError): UpstreamError {
    this.opts.health.failure(err.kind, err.message, err.retryAfterMs);
    return err;
  }
}

function statusError(label: string, res: Response, now: number): UpstreamError {
  const s = res.status;
  if (s === 401) return new UpstreamError('unauthorized', `401 ${label}: token rejected (wrong or revoked)`, s);
  if (s === 404) return new UpstreamError('not_found', `404 ${label}`, s);
  if (s === 429) return new UpstreamError('rate_limited', `429 ${label}: rate limited`, s, parseRetryAfter(res.headers.get('retry-after'), now));
  if (s >= 500) return new UpstreamError('server', `${s} ${label}`, s);
  return new UpstreamError('http', `${s} ${label}: unexpected status`, s);
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}
