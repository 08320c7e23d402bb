import { backoffMs, type Clock, type Timer } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { runGuarded, type FailureCounter } from '../util/guarded.js';
import type { Logger } from '../util/log.js';

/** First retry of a failed renewal; doubles up to MAX_RETRY_MS. */
const RETRY_BASE_MS = 1000;
/**
 * The longest wait between two attempts while no subscription is live or due. Short against
 * any lifetime worth having: a renewal that failed at half-life is tried many times before expiry.
 */
const MAX_RETRY_MS = 60_000;

export interface RenewalTimerDeps {
  clock: Clock;
  logger: Logger;
  countFailure?: FailureCounter;
  /** Subscribes or renews; rejects when that failed. */
  ensure: () => Promise<void>;
  /** When the next renewal is due; null: nothing to renew (then `needed` says whether to retry). */
  dueAt: () => number | null;
  /** True when there should be a subscription (there are mapped resources). */
  needed: () => boolean;
  /** The upstream backoff gate: no call gets through before this instant. */
  blockedUntil: () => number;
  /** Told of every run in flight (so a stop or a test can wait for it). */
  track?: (run: Promise<unknown>) => void;
}

/**
 * Renewal on its own clock, from `expiresAt`: reconcile sweeps can be minutes apart, longer than
 * a short subscription lives. After every ensure (from here, a sweep or a mapping change) the
 * timer is set to the current subscription's renewal time; a failure, or no live subscription
 * when there should be one, retries with backoff (1 s doubling to 1 min, and not before the
 * backoff gate opens) until one is live again. Each run is guarded: logged, counted, never fatal.
 */
export class RenewalTimer {
  private timer: Timer | null = null;
  private failures = 0;
  private stopped = false;

  constructor(private readonly deps: RenewalTimerDeps) {}

  /** Call after every ensure, with whether it succeeded. Never throws: a failure to plan is retried too. */
  settled(ok: boolean): void {
    if (this.stopped) return;
    try {
      this.plan(ok);
    } catch (err) {
      // Reading the subscription state failed (SQLite busy, say): try again soon, never stop.
      this.deps.countFailure?.('subscription-renewal');
      this.deps.logger.error({ task: 'subscription-renewal', err: errorMessage(err) }, 'subscription-renewal planning failed; retrying');
      this.arm(backoffMs(this.failures++, RETRY_BASE_MS, MAX_RETRY_MS));
    }
  }

  private plan(ok: boolean): void {
    const { clock } = this.deps;
    const now = clock.now();
    const due = ok ? this.deps.dueAt() : null;
    if (ok && due !== null) {
      this.failures = 0;
      this.arm(Math.max(0, due - now));
      return;
    }
    if (ok && !this.deps.needed()) {
      // No mapped resources: nothing to renew until the mapping changes (which ensures again).
      this.failures = 0;
      this.cancel();
      return;
    }
    const backoff = backoffMs(this.failures++, RETRY_BASE_MS, MAX_RETRY_MS);
    this.arm(Math.max(backoff, this.deps.blockedUntil() - now));
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  private arm(ms: number): void {
    this.cancel();
    this.timer = this.deps.clock.setTimeout(() => this.fire(), ms);
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private fire(): void {
    this.timer = null;
    if (this.stopped) return;
    const run = runGuarded('subscription-renewal', () => this.deps.ensure(), this.deps).then((ok) => this.settled(ok));
    this.deps.track?.(run);
  }
}
