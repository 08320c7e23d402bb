import type { Store, Tx } from '../store/store.js';

/**
 * Applies work that arrives in the same event-loop turn in one SQLite transaction. With 16
 * fetches in flight, a reconciliation otherwise pays one commit (WAL append, and now and then a
 * checkpoint) per resource and date. Each job runs in its own savepoint: one that throws is
 * rolled back alone and rejects only its own caller.
 */
export class ApplyBatcher {
  private queue: Array<{ run: (tx: Tx) => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;

  constructor(private readonly store: Store) {}

  apply<T>(run: (tx: Tx) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.store.transact((tx) => {
        for (const job of jobs) {
          try {
            outcomes.push({ ok: true, value: tx.db.transaction(() => job.run(tx))() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed: nothing of the batch was applied.
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}
