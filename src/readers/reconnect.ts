import { backoffMs, type Clock, type Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/**
 * The reconnect bookkeeping every device reader shares: exponential backoff with jitter on the
 * injected clock, the counters the status page shows, and one pending retry at a time.
 * The reader keeps its own device handling; this only decides when to try again.
 */
export class Reconnector {
  failures = 0;
  reconnects = 0;
  lastError: string | null = null;
  private lostSinceLastOpen = false;
  private timer: Timer | null = null;

  constructor(
    private readonly opts: {
      clock: Clock;
      logger: Logger;
      baseMs: number;
      maxMs: number;
      /** "serial reader", "HID reader": for the log line. */
      what: string;
      retry: () => void;
      random?: (() => number) | undefined;
    },
  ) {}

  /** A connection is up: reset the backoff; count it as a reconnect if one was lost before. */
  connected(): void {
    this.failures = 0;
    this.lastError = null;
    if (this.lostSinceLastOpen) this.reconnects++;
    this.lostSinceLastOpen = false;
  }

  retryLater(reason: string): void {
    this.lastError = reason;
    this.lostSinceLastOpen = true;
    const delay = backoffMs(this.failures, this.opts.baseMs, this.opts.maxMs, this.opts.random);
    this.failures++;
    this.opts.logger.warn({ reason, retryInMs: delay, attempt: this.failures }, `${this.opts.what} not connected, retrying`);
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      this.opts.retry();
    }, delay);
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
