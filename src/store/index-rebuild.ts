import type { AccessIndex } from '../access/access-index.js';
import type { Logger } from '../util/log.js';
import { changedBetween, readChangeMark, type ChangeMark } from './change-log.js';
import { prepareCached as cached, type Db } from './db.js';
import { refreshDoors, refreshPeople } from './index-loader.js';
import { loadIndexOnWorker } from './index-load-pages.js';

/*
 * Long index work that must not hold the event loop: LoopSlice paces it, and the full rebuild
 * (a hole in the change log, or the index suspected out of step with SQLite) uses it to build a
 * new index beside the live one. The watcher (external-changes.ts) paces its own applying of
 * the log with the same slices.
 */

/**
 * Loop time one macrotask of applying may take before it yields. A fixed count of people per
 * macrotask does not bound the stall: a person costs three indexed lookups, an HMAC and a
 * put into an index far larger than the CPU caches, ~20 µs with 240,000 people but ~40 µs with
 * 1,000,000 (250 people held the loop 10+ ms there, and every swipe queued behind). A read that
 * arrives meanwhile waits at most one slice. 0.25 ms rather than 1 ms: a 20,000-row import into
 * 1M cards then cost swipes p99 3.1 ms instead of 5.4 ms (idle 1.4 ms), and reached the index
 * as fast (1.0 s after the import exited, hardening bench phase b).
 */
export const SLICE_MS = 0.25;
/** People refreshed between two looks at the clock: small enough to overrun a slice by little. */
export const PEOPLE_PER_STEP = 4;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Bounds the loop time of one long job: `pace()` between steps yields to the loop (setImmediate,
 * so pending I/O such as a reader's line runs first) once the slice's budget is spent.
 */
export class LoopSlice {
  private startedAt: number;
  /** Macrotasks the job has taken so far: 1 + the yields. */
  slices = 1;

  constructor(
    private readonly budgetMs: number,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
  }

  async pace(): Promise<void> {
    if (this.spent()) await this.yield();
  }

  /**
   * The budget is spent: the caller yields (`yield()`). For loops that look every few people:
   * checked without an await, the common case (budget left) allocates no promise and takes no
   * microtask turn, which at 4 people a step was 25,000 of each for 100,000 people.
   */
  spent(): boolean {
    return this.now() - this.startedAt >= this.budgetMs;
  }

  async yield(): Promise<void> {
    await yieldToLoop();
    this.slices++;
    this.startedAt = this.now();
  }
}

/** What a rebuild needs of the watcher that owns the live index, its mark and its counters. */
export interface RebuildHost {
  db: Db;
  logger: Logger;
  /** The mark the live index is at (for the log line). */
  appliedSeq: number;
  /** A new empty index set up like the live one. */
  newIndex: () => AccessIndex;
  newSlice: () => LoopSlice;
  countSlices: (slices: number) => void;
  /** Puts the caught-up index in place of the live one and moves the mark to `end`; `onWorker`: its rows were read by a worker. */
  swapIn: (fresh: AccessIndex, end: ChangeMark, onWorker: boolean) => void;
  /** The database file, for a worker to read the rows (index-load-pages.ts); without it they are read here. */
  dbFile?: string;
  /** A worker load that failed (the rows are then read here). */
  onWorkerFailure?: (err: Error) => void;
}

/**
 * The log cannot say what changed: build a new index beside the live one, a chunk at a time,
 * then catch up with what the log recorded meanwhile (own commits included) and swap, in
 * one macrotask, so decisions see either the whole old index or the whole new one.
 */
export async function rebuildBeside(host: RebuildHost, start: ChangeMark): Promise<void> {
  const { db, logger } = host;
  logger.warn({ appliedSeq: host.appliedSeq, logSeq: start.seq }, 'change log has a gap; rebuilding the index beside the live one');
  const built = (host.dbFile !== undefined ? await buildOnWorker(host, host.dbFile) : null) ?? (await buildHere(host, start));
  if (built === null) return;
  const { fresh, from, onWorker } = built;
  const end = readChangeMark(db);
  const caughtUp = changedBetween(db, from, end.seq);
  if (caughtUp.doors) refreshDoors(db, fresh);
  refreshPeople(db, fresh, caughtUp.people);
  host.swapIn(fresh, end, onWorker);
  logger.info(fresh.stats(), 'index rebuilt and swapped in');
}

/** A new index and the change-log seq its rows are consistent with. */
interface Built {
  fresh: AccessIndex;
  from: number;
  onWorker: boolean;
}

/**
 * The first start's worker load into a new index, its pages filled a few people a step; `from`
 * is the seq of the worker's snapshot, so everything committed after it (our own commits too)
 * is caught up from the log. Null when the worker failed: the caller builds on this thread.
 */
async function buildOnWorker(host: RebuildHost, file: string): Promise<Built | null> {
  const fresh = host.newIndex();
  const slice = host.newSlice();
  try {
    const load = await loadIndexOnWorker(file, host.db, fresh, { slice, step: PEOPLE_PER_STEP });
    return { fresh, from: load.seq, onWorker: true };
  } catch (err) {
    host.onWorkerFailure?.(err instanceof Error ? err : new Error(String(err)));
    return null;
  } finally {
    host.countSlices(slice.slices);
  }
}

/** Reads every person on this thread, PEOPLE_PER_STEP a step; null if the database closed meanwhile. */
async function buildHere(host: RebuildHost, start: ChangeMark): Promise<Built | null> {
  const { db } = host;
  const fresh = host.newIndex();
  refreshDoors(db, fresh);
  const ids = (cached(db, 'SELECT id FROM people').all() as { id: number }[]).map((r) => r.id);
  const slice = host.newSlice();
  try {
    if (!(await refreshPaced(db, () => fresh, ids, slice))) return null;
  } finally {
    host.countSlices(slice.slices);
  }
  return { fresh, from: start.seq, onWorker: false };
}

/**
 * Reads and puts `ids` on this thread, PEOPLE_PER_STEP a step, each step reading the current
 * rows (a person changed again meanwhile is simply newer); false if the database closed meanwhile.
 */
export async function refreshPaced(db: Db, index: () => AccessIndex, ids: readonly number[], slice: LoopSlice): Promise<boolean> {
  for (let i = 0; i < ids.length; i += PEOPLE_PER_STEP) {
    await slice.pace();
    if (!db.open) return false;
    refreshPeople(db, index(), ids.slice(i, i + PEOPLE_PER_STEP));
  }
  return true;
}
