import { randomBytes } from 'node:crypto';
import { signWebhook } from '../upstream/signature.js';
import type { Clock } from '../util/clock.js';

/** upstream-api.md section 4: retried after 5 s, 30 s, 2 min, 10 min, 1 h, then hourly for 24 h. */
export const RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000] as const;
export const RETRY_WINDOW_MS = 24 * 3_600_000;
/** The platform waits at most this long for a 2xx. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Delay before the next attempt after `failedAttempts` failures (1 = the first attempt failed),
 * or null when the 24 h window is used up. Pure, on schedule time, so it is testable alone.
 */
export function nextRetryDelay(failedAttempts: number): number | null {
  let elapsed = 0;
  for (let i = 1; i <= failedAttempts; i++) {
    const delay = RETRY_DELAYS_MS[i - 1] ?? 3_600_000;
    elapsed += delay;
    if (elapsed > RETRY_WINDOW_MS) return null;
    if (i === failedAttempts) return delay;
  }
  return null;
}

export interface DeliveryTarget {
  subscriptionId: string;
  callUrl: string;
  secret: string;
}

export interface DeliveryAttempt {
  webhookId: string;
  attempt: number;
  at: number;
  /** HTTP status, or `error` (no answer within 10 s, connection refused) */
  result: number | 'error';
}

interface Pending {
  target: DeliveryTarget;
  webhookId: string;
  body: string;
}

/**
 * Sends signed callbacks like the platform does, with its retry schedule on the injected clock,
 * and the knobs tests need: duplicates, dropped events, held-back (then reordered) delivery and
 * extra signatures in the header.
 */
export class CallbackDelivery {
  /** Extra copies of every event (same webhook-id), as a platform retrying over a flaky link. */
  duplicates = 0;
  /** Events still to drop silently: delivered "not at all". */
  dropNext = 0;
  /** While true, events queue up until release(): lets a test deliver them out of order. */
  hold = false;
  /** Signatures put before the real one (e.g. from a rotated secret), space-separated. */
  extraSignatures: string[] = [];
  readonly attempts: DeliveryAttempt[] = [];
  /** Attempts that threw before any answer (nothing was sent): recorded, not retried. */
  readonly faults: Array<{ webhookId: string; attempt: number; error: string }> = [];
  private held: Pending[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private counter = 0;

  constructor(
    private readonly clock: Clock,
    private readonly fetchFn: typeof fetch = globalThis.fetch,
  ) {}

  enqueue(target: DeliveryTarget, body: object): string {
    const webhookId = `msg_${++this.counter}_${randomBytes(6).toString('hex')}`;
    if (this.dropNext > 0) {
      this.dropNext--;
      return webhookId;
    }
    const pending: Pending = { target, webhookId, body: JSON.stringify(body) };
    for (let i = 0; i <= this.duplicates; i++) {
      if (this.hold) this.held.push(pending);
      else this.attempt(pending, 1);
    }
    return webhookId;
  }

  release(order: 'fifo' | 'reverse' = 'fifo'): void {
    const list = order === 'reverse' ? this.held.reverse() : this.held;
    this.held = [];
    this.hold = false;
    for (const p of list) this.attempt(p, 1);
  }

  heldCount(): number {
    return this.held.length;
  }

  /** Resolves when no POST is in flight (retries scheduled on the clock are not waited for). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * `run` must never reject: `run.finally(...)` is a new promise that nobody awaits, so a throw
   * in post() (signing with a secret that is not whsec_) or in the retry scheduling would
   * surface as an unhandled rejection and take the hosting process down. Such a throw happens
   * before anything is sent and would happen again, so it is recorded, not retried.
   */
  private attempt(p: Pending, n: number): void {
    const run = this.post(p, n)
      .then((ok) => {
        if (ok) return;
        const delay = nextRetryDelay(n);
        if (delay !== null) this.clock.setTimeout(() => this.attempt(p, n + 1), delay);
      })
      .catch((err: unknown) => {
        this.faults.push({ webhookId: p.webhookId, attempt: n, error: err instanceof Error ? err.message : String(err) });
      });
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private async post(p: Pending, n: number): Promise<boolean> {
    const timestamp = Math.floor(this.clock.now() / 1000);
    const signature = [...this.extraSignatures, signWebhook(p.target.secret, p.webhookId, timestamp, p.body)].join(' ');
    let result: number | 'error';
    try {
      const res = await this.fetchFn(p.target.callUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'webhook-id': p.webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature,
        },
        body: p.body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      result = res.status;
    } catch {
      result = 'error';
    }
    this.attempts.push({ webhookId: p.webhookId, attempt: n, at: this.clock.now(), result });
    return typeof result === 'number' && result >= 200 && result < 300;
  }
}
