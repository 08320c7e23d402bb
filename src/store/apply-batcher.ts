import { performance } from 'node:perf_hooks';
import { isSqliteBusy } from './sqlite-busy.js';
import type { Durability, Store, Tx } from './store.js';
import { backoffMs } from '../util/clock.js';

/** A batch that met another process's write lock is retried; the cache keeps deciding meanwhile. */
const BUSY_RETRY_BASE_MS = 50;
const BUSY_RETRY_MAX_MS = 1_000;
/**
 * Loop time one transaction of jobs may take; the jobs left over commit in the next macrotask.
 * With 200 callbacks/s a turn can gather ten fetched lists (~0.5 ms each to apply, plus the
 * index refresh of the people they touch), and swipes queued behind that one commit.
 */
export const APPLY_SLICE_MS = 1;

/**
 * Applies work that arrives in the same event-loop turn in one SQLite transaction (the upstream
 * reconciler and the API's writer thread both batch through it). With 16
 * fetches in flight, a reconciliation otherwise pays one commit (WAL append, and now and then a
 * checkpoint) per resource and date. Each job runs in its own savepoint: one that throws is
 * rolled back alone and rejects only its own caller.
 */
type Job = { run: (tx: Tx) => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void };

export class ApplyBatcher {
  private queue: Job[] = [];
  private scheduled = false;
  /** Batches that met SQLITE_BUSY and were retried (a lock held by a backup script, `sqlite3`, the CLI). */
  busyRetries = 0;
  private stopped = false;

  /** Transactions committed (each one macrotask), for tests and stats. */
  commits = 0;

  constructor(
    private readonly store: Store,
    /** durability: 'normal' by default (platform data the next sweep repairs); the API's writer asks 'full'. */
    private readonly slice: { ms?: number; now?: () => number; durability?: Durability; immediate?: boolean } = {},
  ) {}

  apply<T>(run: (tx: Tx) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Jobs still waiting for a lock are rejected instead of retried for ever. */
  stop(): void {
    this.stopped = true;
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    this.commit(jobs, 0);
  }

  private commit(jobs: Job[], attempt: number): void {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const now = this.slice.now ?? (() => performance.now());
    const budget = this.slice.ms ?? APPLY_SLICE_MS;
    const started = now();
    try {
      // Platform-derived: a power cut that rolls this back is repaired by the next sweep (NORMAL).
      // An operator's or the API's change has nobody to repeat it: its writer asks for 'full'.
      this.store.transact(
        (tx) => {
          for (const job of jobs) {
            try {
              outcomes.push({ ok: true, value: tx.savepoint(() => job.run(tx)) });
            } catch (error) {
              if (isSqliteBusy(error)) throw error; // the lock, not the job: retry the whole batch
              outcomes.push({ ok: false, error });
            }
            if (now() - started >= budget) break; // the rest in the next macrotask
          }
        },
        { durability: this.slice.durability ?? 'normal', immediate: this.slice.immediate ?? false },
      );
      this.commits++;
    } catch (error) {
      // The commit itself failed: nothing of the batch was applied. Each job is a pure function
      // of its fetched list, so running the whole batch again later is safe.
      if (isSqliteBusy(error) && !this.stopped) {
        this.busyRetries++;
        setTimeout(() => this.commit(jobs, attempt + 1), backoffMs(attempt, BUSY_RETRY_BASE_MS, BUSY_RETRY_MAX_MS)).unref();
        return;
      }
      for (const job of jobs) job.reject(error);
      return;
    }
    const done = outcomes.length;
    // Scheduled before any new apply() can queue (this is synchronous): the rest keep their order.
    if (done < jobs.length) setImmediate(() => this.commit(jobs.slice(done), 0));
    outcomes.forEach((o, i) => {
      if (o.ok) jobs[i]!.resolve(o.value);
      else jobs[i]!.reject(o.error);
    });
  }
}
