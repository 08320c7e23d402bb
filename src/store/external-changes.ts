import { performance } from 'node:perf_hooks';
import { AccessIndex } from '../access/access-index.js';
import type { Clock, Timer } from '../util/clock.js';
import { guardedInterval, runGuarded, type FailureCounter } from '../util/guarded.js';
import type { Logger } from '../util/log.js';
import { AppliedWaiters } from './applied-waiters.js';
import { changedBetween, logHasHole, readChangeMark, type ChangeMark } from './change-log.js';
import type { Db } from './db.js';
import { LoopSlice, rebuildBeside, SLICE_MS } from './index-rebuild.js';
import { refreshDoors } from './index-loader.js';
import { ChangedPeople, RefreshReader, WORKER_CHUNK, type RowsReader } from './index-refresh.js';

/*
 * Other processes commit to the same file (`lintel cards import`, the sqlite3 shell). Migration
 * 6's triggers log every person and door change, from any connection, in change_log; the
 * watcher applies the entries past the last one it applied, a bounded chunk of people per
 * macrotask, so a 20,000-row import never holds the event loop (and the badge reads behind it)
 * for long. Own commits are in change_log too but already in the index (Store.onCommit):
 * `PRAGMA data_version` tells whether any other connection committed, and when none did the
 * watcher just moves its mark. Only a hole in the log (pruned elsewhere, a restored file)
 * forces a full rebuild, and that one is built beside the live index and swapped in
 * (index-rebuild.ts). The log's own queries are in change-log.ts.
 */

/** Change-log entries read per query (an import writes about three per person); ~0.3 ms. */
const LOG_WINDOW = 500;
/**
 * How soon after pollSoon() the log is read: the upstream thread says it committed, and the
 * few milliseconds let its follow-up commits (one applied list after another) join one poll.
 */
export const SOON_MS = 5;
/** Below this many people, an applied external change is logged at debug only. */
const LOGGED_PEOPLE = 100;

export interface WatchStats {
  polls: number;
  /** Polls that found another connection's commit. */
  externalCommits: number;
  peopleRefreshed: number;
  /** Full rebuilds (a hole in the change log); 0 in normal operation. */
  rebuilds: number;
  /** Rebuilds whose rows a worker read (the rest were read on the main thread). */
  workerRebuilds: number;
  /** People whose rows a worker read (index-refresh.ts); the rest were read on the main thread. */
  workerPeople: number;
  /** Macrotasks the applying (and rebuilding) took: the loop got control back between each two. */
  slices: number;
  appliedSeq: number;
}

export interface ExternalChangeWatchOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  countFailure?: FailureCounter;
  /** The index decisions read now, and how to replace it after a rebuild. */
  index: () => AccessIndex;
  swap: (fresh: AccessIndex) => void;
  /** A new empty index set up like the live one (its member-token subject hasher); default a bare one. */
  newIndex?: () => AccessIndex;
  /** Taken before the index was loaded, so nothing committed in between is missed. */
  from: ChangeMark;
  everyMs?: number;
  /**
   * The site-wide part changed (doors, resource mapping, a site_state flag such as lockdown):
   * told after the index's doors are refreshed, so the caller re-reads what it keeps of the site.
   */
  siteChanged?: () => void;
  /** Loop time per macrotask (default SLICE_MS) and the clock it is read from (tests drive it). */
  sliceMs?: number;
  now?: () => number;
  /**
   * Read the rows of larger changes on a worker with its own connection to this file
   * (index-refresh.ts) instead of on this thread. Off by default: a test's in-memory database has
   * no file for a worker to open.
   */
  workerReads?: boolean;
  /** The worker's reader, given by a test that needs to step between its read and the fill; default a RefreshReader of db's file. */
  rowsReader?: RowsReader;
}

export class ExternalChangeWatch {
  private mark: ChangeMark;
  private timer: Timer | null = null;
  /** The worker's people count lives in ChangedPeople and the mark in `mark`: both are read at stats(). */
  private readonly counters: Omit<WatchStats, 'workerPeople' | 'appliedSeq'>;
  private running: Promise<void> | null = null;
  private again = false;
  private soon: Timer | null = null;
  private rebuildAsked = false;
  private readonly waiters: AppliedWaiters;
  private readonly people: ChangedPeople;
  /** The database file workers read (workerReads), or null. */
  private readonly file: string | null;

  constructor(private readonly opts: ExternalChangeWatchOptions) {
    this.mark = opts.from;
    this.waiters = new AppliedWaiters(opts.clock);
    const file = opts.db.name;
    this.file = opts.workerReads && file !== ':memory:' && file !== '' ? file : null;
    const reader = !opts.workerReads ? null : (opts.rowsReader ?? (this.file !== null ? new RefreshReader(this.file) : null));
    this.people = new ChangedPeople({ db: opts.db, index: opts.index, reader, logger: opts.logger, countFailure: opts.countFailure });
    this.counters = { polls: 0, externalCommits: 0, peopleRefreshed: 0, workerRebuilds: 0, rebuilds: 0, slices: 0 };
  }

  private slice(): LoopSlice {
    return new LoopSlice(this.opts.sliceMs ?? SLICE_MS, this.opts.now ?? (() => performance.now()));
  }

  /** Polls through guardedInterval: a failed poll (SQLITE_BUSY, I/O) is logged, counted, retried. */
  start(): this {
    this.people.warm();
    this.timer = guardedInterval('external-changes', () => this.poll(), {
      clock: this.opts.clock,
      everyMs: this.opts.everyMs ?? 1000,
      logger: this.opts.logger,
      countFailure: this.opts.countFailure,
    });
    return this;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.soon?.cancel();
    this.soon = null;
    void this.people.close();
  }

  /** This connection committed changes to these people (Store.onCommit): a worker's older rows must not overwrite them. */
  noteOwnCommit(people: Iterable<number>): void {
    this.people.noteOwnCommit(people);
  }

  /**
   * The index may not match SQLite (a listener failed after one of our own commits, which the
   * log-and-data_version check would skip): rebuild beside the live one at the next poll.
   */
  rebuildSoon(): void {
    this.rebuildAsked = true;
    this.pollSoon();
  }

  /** Another thread of ours committed: read the log shortly, not at the next tick. */
  /**
   * `delayMs` 0: a writer waits on the answer (the API's), nothing to gather first. That one
   * runs at setImmediate, not on a 0 ms timer (at least 1 ms in node, per batch of answers):
   * the replies of one batch arrive in the same turn, so one poll still serves them all.
   */
  pollSoon(delayMs = SOON_MS): void {
    if (this.soon || !this.timer) return;
    const run = () => {
      this.soon = null;
      void runGuarded('external-changes', () => this.poll(), { logger: this.opts.logger, countFailure: this.opts.countFailure });
    };
    if (delayMs > 0) {
      this.soon = this.opts.clock.setTimeout(run, delayMs);
      return;
    }
    const handle = setImmediate(run);
    this.soon = { cancel: () => clearImmediate(handle) };
  }

  stats(): WatchStats {
    return { ...this.counters, workerPeople: this.people.workerPeople, appliedSeq: this.mark.seq };
  }

  /** The log up to here has been applied: housekeeping may prune it. */
  appliedSeq(): number {
    return this.mark.seq;
  }

  /**
   * Resolves once the index has applied the log up to `seq` (true), or after `ms` (false): a
   * writer answers its client when doors know the change, told by the poll that applied it,
   * not by polling the mark.
   */
  waitApplied(seq: number, ms: number): Promise<boolean> {
    return this.waiters.wait(seq, this.mark.seq, ms);
  }

  private moveMark(mark: ChangeMark): void {
    this.mark = mark;
    this.waiters.reached(mark.seq);
  }

  /**
   * One poll at a time: a poll asked for while one runs (the timer and pollSoon) runs right
   * after it, so no two ever apply the same entries or move the mark past each other.
   */
  poll(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async () => {
      try {
        do {
          this.again = false;
          await this.pollOnce();
        } while (this.again);
      } finally {
        this.running = null;
      }
    };
    this.running = run();
    return this.running;
  }

  private async pollOnce(): Promise<void> {
    const { db } = this.opts;
    if (!db.open) return;
    this.counters.polls++;
    const now = readChangeMark(db);
    if (this.rebuildAsked) {
      this.rebuildAsked = false;
      await this.rebuild(now);
      return;
    }
    const external = now.dataVersion !== this.mark.dataVersion;
    if (!external || now.seq === this.mark.seq) {
      // Only our own commits since the last poll (already applied), or nothing at all.
      this.moveMark(now);
      return;
    }
    this.counters.externalCommits++;
    if (now.seq < this.mark.seq || logHasHole(db, this.mark.seq)) {
      await this.rebuild(now);
      return;
    }
    // The log is read a window at a time too: reading 60,000 entries in one query is itself a stall.
    let people = 0;
    let doors = false;
    const slice = this.slice();
    const due = new Set<number>();
    try {
      for (let from = this.mark.seq; from < now.seq; from += LOG_WINDOW) {
        await slice.pace();
        if (!db.open) return;
        const change = changedBetween(db, from, Math.min(from + LOG_WINDOW, now.seq));
        if (change.doors) {
          refreshDoors(db, this.opts.index());
          this.opts.siteChanged?.();
        }
        doors ||= change.doors;
        for (const id of change.people) due.add(id);
        if (due.size < WORKER_CHUNK && from + LOG_WINDOW < now.seq) continue;
        const ids = [...due];
        due.clear();
        if (!(await this.people.refresh(ids, slice))) return;
        this.counters.peopleRefreshed += ids.length;
        people += ids.length;
      }
    } finally {
      this.counters.slices += slice.slices;
    }
    this.moveMark(now);
    // An import or a bulk is worth a line; the API's writer commits a person at a time, hundreds a second.
    if (doors || people >= LOGGED_PEOPLE) this.opts.logger.info({ people, doors }, 'applied changes committed by another process');
    else if (people > 0) this.opts.logger.debug({ people }, 'applied changes committed by another process');
  }

  /** A full rebuild beside the live index (index-rebuild.ts), swapped in with the mark moved. */
  private rebuild(start: ChangeMark): Promise<void> {
    return rebuildBeside(
      {
        db: this.opts.db,
        logger: this.opts.logger,
        appliedSeq: this.mark.seq,
        newIndex: () => this.opts.newIndex?.() ?? new AccessIndex(),
        newSlice: () => this.slice(),
        dbFile: this.file ?? undefined,
        onWorkerFailure: (err) => {
          this.opts.countFailure?.('index-rebuild-worker');
          this.opts.logger.warn({ err: err.message }, 'index rebuild worker failed; reading every person on the main thread');
        },
        countSlices: (slices) => (this.counters.slices += slices),
        swapIn: (fresh, end, onWorker) => {
          this.opts.swap(fresh);
          if (onWorker) this.counters.workerRebuilds++;
          // A gap may hide a site flag's change as well as people's.
          this.opts.siteChanged?.();
          this.moveMark(end);
          this.counters.rebuilds++;
        },
      },
      start,
    );
  }
}
