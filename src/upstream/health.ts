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

/**
 * The link's health and its backoff gate, one state machine for every call: a 401 blocks for a
 * long, growing time (a revoked token does not come back by hammering), 429 honours retry-after,
 * 5xx and network faults back off exponentially. A success clears it all.
 */
export class UpstreamHealth {
  state: UpstreamState;
  lastError: string | null = null;
  lastSuccessAt: number | null = null;
  /** No call before this instant (ms), except the visitor check which has its own deadline. */
  blockedUntil = 0;
  private failures = 0;
  private authFailures = 0;

  constructor(
    private readonly clock: Clock,
    enabled: boolean,
    private readonly random: () => number = Math.random,
  ) {
    this.state = enabled ? 'ok' : 'disabled';
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
    if (keepRateLimit && this.state === 'degraded' && this.clock.now() < this.blockedUntil) {
      this.lastSuccessAt = this.clock.now();
      return;
    }
    this.state = 'ok';
    this.lastError = null;
    this.lastSuccessAt = this.clock.now();
    this.failures = 0;
    this.authFailures = 0;
    this.blockedUntil = 0;
  }

  failure(kind: FailureKind, message: string, retryAfterMs?: number): void {
    if (this.state === 'disabled' || kind === 'backoff') return;
    const now = this.clock.now();
    this.lastError = message;
    switch (kind) {
      case 'unauthorized':
        this.state = 'unauthorized';
        this.blockedUntil = now + backoffMs(this.authFailures++, 60_000, 3_600_000, this.random);
        return;
      case 'rate_limited':
        this.state = 'degraded';
        this.blockedUntil = now + (retryAfterMs ?? backoffMs(this.failures++, 5_000, 300_000, this.random));
        return;
      case 'server':
      case 'network':
      case 'timeout':
        this.state = 'unreachable';
        this.blockedUntil = now + backoffMs(this.failures++, 1_000, 300_000, this.random);
        return;
      default:
        // The platform answered but one answer was wrong: the link works, one item does not.
        if (this.state === 'ok') this.state = 'degraded';
    }
  }

  /** A new token: forget the 401 backoff so the next call tries it at once; only a success says it works. */
  tokenChanged(enabled: boolean): void {
    if (!enabled) {
      this.state = 'disabled';
      return;
    }
    if (this.state === 'disabled') this.state = 'ok';
    this.authFailures = 0;
    this.blockedUntil = 0;
  }
}
