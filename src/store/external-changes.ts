import { performance } from 'node:perf_hooks';
import { AccessIndex } from '../access/access-index.js';
import type { Clock, Timer } from '../util/clock.js';
import { guardedInterval, runGuarded, type FailureCounter } from '../util/guarded.js';
import type { Logger } from '../util/log.js';
import { prepareCached as cached, type Db } from './db.js';
import { refreshDoors, refreshPeople } from './index-loader.js';

/*
 * Other processes commit to the same file (`lintel cards import`, the sqlite3 shell). Migration
 * 6's triggers log every person and door change, from any connection, in change_log; the
 * watcher applies the entries past the last one it applied, a bounded chunk of people per
 * macrotask, so a 20,000-row import never holds the event loop (and the badge reads behind it)
 * for long. Own commits are in change_log too but already in the index (Store.onCommit):
 * `PRAGMA data_version` tells whether any other connection committed, and when none did the
 * watcher just moves its mark. Only a hole in the log (pruned elsewhere, a restored file)
 * forces a full rebuild, and that one is built beside the live index and swapped in.
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
/** Change-log entries read per query (an import writes about three per person); ~0.3 ms. */
const LOG_WINDOW = 500;
/**
 * How soon after pollSoon() the log is read: the upstream thread says it committed, and the
 * few milliseconds let its follow-up commits (one applied list after another) join one poll.
 */
export const SOON_MS = 5;
/** Below this many people, an applied external change is logged at debug only. */
const LOGGED_PEOPLE = 100;

export interface ChangeMark {
  seq: number;
  dataVersion: number;
}

/**
 * The log's high-water mark and data_version from one read snapshot, so no commit can fall
 * between the two reads: inside a read transaction data_version is that of the snapshot.
 */
export function readChangeMark(db: Db): ChangeMark {
  return db.transaction(() => {
    const row = cached(db, "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'").get() as { seq: number } | undefined;
    return { seq: row?.seq ?? 0, dataVersion: db.pragma('data_version', { simple: true }) as number };
  })();
}

export interface WatchStats {
  polls: number;
  /** Polls that found another connection's commit. */
  externalCommits: number;
  peopleRefreshed: number;
  /** Full rebuilds (a hole in the change log); 0 in normal operation. */
  rebuilds: number;
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
}

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
    if (this.now() - this.startedAt < this.budgetMs) return;
    await yieldToLoop();
    this.slices++;
    this.startedAt = this.now();
  }
}

export class ExternalChangeWatch {
  private mark: ChangeMark;
  private timer: Timer | null = null;
  private readonly counters: WatchStats;
  private running: Promise<void> | null = null;
  private again = false;
  private soon: Timer | null = null;
  private rebuildAsked = false;
  private readonly waiters = new Set<{ seq: number; resolve: (applied: boolean) => void; timer: Timer | null }>();

  constructor(private readonly opts: ExternalChangeWatchOptions) {
    this.mark = opts.from;
    this.counters = { polls: 0, externalCommits: 0, peopleRefreshed: 0, rebuilds: 0, slices: 0, appliedSeq: opts.from.seq };
  }

  private slice(): LoopSlice {
    return new LoopSlice(this.opts.sliceMs ?? SLICE_MS, this.opts.now ?? (() => performance.now()));
  }

  /** Polls through guardedInterval: a failed poll (SQLITE_BUSY, I/O) is logged, counted, retried. */
  start(): this {
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
  /** `delayMs` 0: a writer waits on the answer (the API's), nothing to gather first. */
  pollSoon(delayMs = SOON_MS): void {
    if (this.soon || !this.timer) return;
    this.soon = this.opts.clock.setTimeout(() => {
      this.soon = null;
      void runGuarded('external-changes', () => this.poll(), { logger: this.opts.logger, countFailure: this.opts.countFailure });
    }, delayMs);
  }

  stats(): WatchStats {
    return { ...this.counters, appliedSeq: this.mark.seq };
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
    if (this.mark.seq >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { seq, resolve, timer: null as Timer | null };
      waiter.timer = this.opts.clock.setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, ms);
      this.waiters.add(waiter);
    });
  }

  private moveMark(mark: ChangeMark): void {
    this.mark = mark;
    for (const w of this.waiters) {
      if (w.seq > mark.seq) continue;
      this.waiters.delete(w);
      w.timer?.cancel();
      w.resolve(true);
    }
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
    if (now.seq < this.mark.seq || this.hasHole(this.mark.seq)) {
      await this.rebuild(now);
      return;
    }
    // The log is read a window at a time too: reading 60,000 entries in one query is itself a stall.
    let people = 0;
    let doors = false;
    const slice = this.slice();
    try {
      for (let from = this.mark.seq; from < now.seq; from += LOG_WINDOW) {
        await slice.pace();
        if (!db.open) return;
        const change = this.changedSince(from, Math.min(from + LOG_WINDOW, now.seq));
        if (change.doors) {
          refreshDoors(db, this.opts.index());
          this.opts.siteChanged?.();
        }
        doors ||= change.doors;
        for (let i = 0; i < change.people.length; i += PEOPLE_PER_STEP) {
          await slice.pace();
          if (!db.open) return;
          // Each step reads the current rows: a person changed again meanwhile is simply newer.
          const step = change.people.slice(i, i + PEOPLE_PER_STEP);
          refreshPeople(db, this.opts.index(), step);
          this.counters.peopleRefreshed += step.length;
          people += step.length;
        }
      }
    } finally {
      this.counters.slices += slice.slices;
    }
    this.moveMark(now);
    // An import or a bulk is worth a line; the API's writer commits a person at a time, hundreds a second.
    if (doors || people >= LOGGED_PEOPLE) this.opts.logger.info({ people, doors }, 'applied changes committed by another process');
    else if (people > 0) this.opts.logger.debug({ people }, 'applied changes committed by another process');
  }

  /** Entries after `seq` must start at seq + 1; anything else means some were pruned unapplied. */
  private hasHole(seq: number): boolean {
    const row = cached(this.opts.db, 'SELECT min(seq) AS first FROM change_log WHERE seq > ?').get(seq) as { first: number | null };
    return row.first !== seq + 1;
  }

  private changedSince(after: number, upTo: number): { people: number[]; doors: boolean } {
    const rows = cached(this.opts.db, 'SELECT person_id, doors FROM change_log WHERE seq > ? AND seq <= ?').raw().all(after, upTo) as [number | null, number][];
    const people = new Set<number>();
    let doors = false;
    for (const [person, door] of rows) {
      if (person !== null) people.add(person);
      if (door === 1) doors = true;
    }
    return { people: [...people], doors };
  }

  /**
   * The log cannot say what changed: build a new index beside the live one, a chunk at a time,
   * then catch up with what the log recorded meanwhile (own commits included) and swap, in
   * one macrotask, so decisions see either the whole old index or the whole new one.
   */
  private async rebuild(start: ChangeMark): Promise<void> {
    const { db, logger } = this.opts;
    logger.warn({ appliedSeq: this.mark.seq, logSeq: start.seq }, 'change log has a gap; rebuilding the index beside the live one');
    const fresh = this.opts.newIndex?.() ?? new AccessIndex();
    refreshDoors(db, fresh);
    const ids = (cached(db, 'SELECT id FROM people').all() as { id: number }[]).map((r) => r.id);
    const slice = this.slice();
    for (let i = 0; i < ids.length; i += PEOPLE_PER_STEP) {
      await slice.pace();
      if (!db.open) return;
      refreshPeople(db, fresh, ids.slice(i, i + PEOPLE_PER_STEP));
    }
    this.counters.slices += slice.slices;
    const end = readChangeMark(db);
    const caughtUp = this.changedSince(start.seq, end.seq);
    if (caughtUp.doors) refreshDoors(db, fresh);
    refreshPeople(db, fresh, caughtUp.people);
    this.opts.swap(fresh);
    // A gap may hide a site flag's change as well as people's.
    this.opts.siteChanged?.();
    this.moveMark(end);
    this.counters.rebuilds++;
    logger.info(fresh.stats(), 'index rebuilt and swapped in');
  }
}

/** Housekeeping: drop log entries the watcher has applied (they are never read again). */
export function pruneChangeLog(db: Db, appliedSeq: number): number {
  return cached(db, 'DELETE FROM change_log WHERE seq <= ?').run(appliedSeq).changes;
}
