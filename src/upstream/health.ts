import { backoffMs, type Clock } from '../util/clock.js';

export type UpstreamState = 'ok' | 'degraded' | 'unauthorized' | 'unreachable' | 'disabled';

export type FailureKind =
  | 'unauthorized' // 401: token wrong or revoked
  | 'rate_limited' // 429
  | 'server' // 5xx
  | 'network' // connection refused, reset, DNS
  | 'timeout'
  | 'invalid' // body does not match the contract
  | 'not_found'
  | 'http' // any other status
  | 'backoff'; // not attempted: still backing off

/** The faults that close the gate, each with its own deadline: a new token lifts only `auth`. */
type Fault = 'auth' | 'rate' | 'outage';

const FAULT_OF: Partial<Record<FailureKind, Fault>> = {
  unauthorized: 'auth',
  rate_limited: 'rate',
  server: 'outage',
  network: 'outage',
  timeout: 'outage',
};

/**
 * The link's health and its backoff gate, one state machine for every call: a 401 blocks for a
 * long, growing time (a revoked token does not come back by hammering), 429 honours retry-after,
 * 5xx and network faults back off exponentially. A success clears it all.
 *
 * The gate escalates at most once per gate period and fault: the reconciler has up to 16 calls in
 * flight, and the failures of those already running when the first one closed the gate say
 * nothing new; counting each would send one blip to the maximum backoff.
 */
export class UpstreamHealth {
  state: UpstreamState;
  lastError: string | null = null;
  lastSuccessAt: number | null = null;
  private failures = 0;
  private authFailures = 0;
  private readonly until: Record<Fault, number> = { auth: 0, rate: 0, outage: 0 };
  /** A 401 not yet disproved by a success or answered by a new token: it stays the fault shown. */
  private tokenRejected = false;

  constructor(
    private readonly clock: Clock,
    enabled: boolean,
    private readonly random: () => number = Math.random,
  ) {
    this.state = enabled ? 'ok' : 'disabled';
  }

  /** No call before this instant (ms), except the visitor check which has its own deadline. */
  get blockedUntil(): number {
    return Math.max(this.until.auth, this.until.rate, this.until.outage);
  }

  blocked(): boolean {
    return this.state === 'disabled' || this.clock.now() < this.blockedUntil;
  }

  /**
   * `keepRateLimit`: an answer to a call that bypassed the gate (the visitor check) proves the
   * link and the token work, but not that the platform's `retry-after` has passed.
   */
  success(keepRateLimit = false): void {
    if (this.state === 'disabled') return;
    if (keepRateLimit && this.clock.now() < this.until.rate) {
      this.lastSuccessAt = this.clock.now();
      return;
    }
    this.state = 'ok';
    this.lastError = null;
    this.lastSuccessAt = this.clock.now();
    this.failures = 0;
    this.authFailures = 0;
    this.tokenRejected = false;
    this.until.auth = this.until.rate = this.until.outage = 0;
  }

  failure(kind: FailureKind, message: string, retryAfterMs?: number): void {
    if (this.state === 'disabled' || kind === 'backoff') return;
    const now = this.clock.now();
    const fault = FAULT_OF[kind];
    if (kind === 'unauthorized') {
      this.state = 'unauthorized';
      this.lastError = message;
      this.tokenRejected = true;
    } else if (!this.tokenRejected) {
      // While the token is rejected an outage or a rate limit on top must not hide the 401:
      // fixing the token is what the operator has to do.
      this.lastError = message;
      if (fault === 'rate') this.state = 'degraded';
      else if (fault === 'outage') this.state = 'unreachable';
      // The platform answered but one answer was wrong: the link works, one item does not.
      else if (this.state === 'ok') this.state = 'degraded';
    }
    if (fault === undefined) return;
    if (now < this.until[fault]) {
      // Already closed for this fault: a call that was in flight when it closed (or the visitor
      // check, which bypasses the gate). No escalation; only the platform's own retry-after counts.
      if (fault === 'rate' && retryAfterMs !== undefined) this.until.rate = Math.max(this.until.rate, now + retryAfterMs);
      return;
    }
    this.until[fault] = now + this.delayFor(fault, retryAfterMs);
  }

  /**
   * A new token: forget the 401 backoff so the next call tries it at once; only a success says it
   * works. A rate limit or an outage still stands: a new token cannot fix those.
   */
  tokenChanged(enabled: boolean): void {
    if (!enabled) {
      this.state = 'disabled';
      return;
    }
    if (this.state === 'disabled') this.state = 'ok';
    this.authFailures = 0;
    this.tokenRejected = false;
    this.until.auth = 0;
  }

  private delayFor(fault: Fault, retryAfterMs: number | undefined): number {
    switch (fault) {
      case 'auth':
        return backoffMs(this.authFailures++, 60_000, 3_600_000, this.random);
      case 'rate':
        return retryAfterMs ?? backoffMs(this.failures++, 5_000, 300_000, this.random);
      case 'outage':
        return backoffMs(this.failures++, 1_000, 300_000, this.random);
    }
  }
}
