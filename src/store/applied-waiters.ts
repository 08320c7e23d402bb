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

/** The longest a writer of ours waits for the index (the watcher applies in slices beside the badges); past it the answer goes anyway. */
export const INDEX_WAIT_MS = 2_000;

/**
 * A writer on a thread of ours (the API thread, a reload's worker) after its commit: tell the
 * change watcher to read the log now, and wait until its index has applied up to the commit's
 * seq, so whoever is told "done" can badge at once. Wired by BackgroundPart (onCommitted) once
 * the watcher runs; before that, nothing to tell and nothing to wait for.
 */
export class IndexCatchUp {
  private committed: () => void = () => undefined;
  private waitApplied: ((seq: number, ms: number) => Promise<boolean>) | null = null;

  onCommitted(listener: () => void, waitApplied: (seq: number, ms: number) => Promise<boolean>): void {
    this.committed = listener;
    this.waitApplied = waitApplied;
  }

  /** Read the log now, without waiting (a bulk: its people arrive in slices over seconds). */
  nudge(): void {
    this.committed();
  }

  /** Resolves once the index has `seq`, or after INDEX_WAIT_MS (the write is durable either way); never rejects. */
  async reached(seq: number): Promise<void> {
    this.committed();
    await this.waitApplied?.(seq, INDEX_WAIT_MS);
  }
}
