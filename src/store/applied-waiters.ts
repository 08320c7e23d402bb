import type { Clock, Timer } from '../util/clock.js';

/**
 * Writers waiting for the index to have applied the change log up to their commit's seq (the
 * API answers its client when doors know the change): told by the poll that moved the mark
 * past it, or released with false at their bound, never by polling the mark.
 */
export class AppliedWaiters {
  private readonly waiters = new Set<{ seq: number; resolve: (applied: boolean) => void; timer: Timer | null }>();

  constructor(private readonly clock: Clock) {}

  /** `applied`: where the mark is now. */
  wait(seq: number, applied: number, ms: number): Promise<boolean> {
    if (applied >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { seq, resolve, timer: null as Timer | null };
      waiter.timer = this.clock.setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, ms);
      this.waiters.add(waiter);
    });
  }

  /** The mark moved to `seq`: everyone waiting for it or less is answered. */
  reached(seq: number): void {
    for (const w of this.waiters) {
      if (w.seq > seq) continue;
      this.waiters.delete(w);
      w.timer?.cancel();
      w.resolve(true);
    }
  }
}
