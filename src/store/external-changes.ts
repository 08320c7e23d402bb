import { AccessIndex } from '../access/access-index.js';
import type { Clock, Timer } from '../util/clock.js';
import { guardedInterval, type FailureCounter } from '../util/guarded.js';
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

/** People refreshed per macrotask: 250 × three indexed lookups, ~5-7 ms of the loop on the development VM (bench/external-change.ts). */
export const PEOPLE_PER_CHUNK = 250;
/** Change-log entries read per query (an import writes about three per person). */
const LOG_WINDOW = 2000;

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
  chunk?: number;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class ExternalChangeWatch {
  private mark: ChangeMark;
  private timer: Timer | null = null;
  private readonly counters: WatchStats;
  private readonly chunk: number;

  constructor(private readonly opts: ExternalChangeWatchOptions) {
    this.mark = opts.from;
    this.chunk = opts.chunk ?? PEOPLE_PER_CHUNK;
    this.counters = { polls: 0, externalCommits: 0, peopleRefreshed: 0, rebuilds: 0, appliedSeq: opts.from.seq };
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
  }

  stats(): WatchStats {
    return { ...this.counters, appliedSeq: this.mark.seq };
  }

  /** The log up to here has been applied: housekeeping may prune it. */
  appliedSeq(): number {
    return this.mark.seq;
  }

  async poll(): Promise<void> {
    const { db } = this.opts;
    if (!db.open) return;
    this.counters.polls++;
    const now = readChangeMark(db);
    const external = now.dataVersion !== this.mark.dataVersion;
    if (!external || now.seq === this.mark.seq) {
      // Only our own commits since the last poll (already applied), or nothing at all.
      this.mark = now;
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
    for (let from = this.mark.seq; from < now.seq; from += LOG_WINDOW) {
      if (from > this.mark.seq) await yieldToLoop();
      if (!db.open) return;
      const change = this.changedSince(from, Math.min(from + LOG_WINDOW, now.seq));
      if (change.doors) refreshDoors(db, this.opts.index());
      doors ||= change.doors;
      for (let i = 0; i < change.people.length; i += this.chunk) {
        if (i > 0) await yieldToLoop();
        if (!db.open) return;
        // Each chunk reads the current rows: a person changed again meanwhile is simply newer.
        refreshPeople(db, this.opts.index(), change.people.slice(i, i + this.chunk));
        const n = Math.min(this.chunk, change.people.length - i);
        this.counters.peopleRefreshed += n;
        people += n;
      }
    }
    this.mark = now;
    if (people > 0 || doors) this.opts.logger.info({ people, doors }, 'applied changes committed by another process');
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
    for (let i = 0; i < ids.length; i += this.chunk) {
      await yieldToLoop();
      if (!db.open) return;
      refreshPeople(db, fresh, ids.slice(i, i + this.chunk));
    }
    const end = readChangeMark(db);
    const caughtUp = this.changedSince(start.seq, end.seq);
    if (caughtUp.doors) refreshDoors(db, fresh);
    refreshPeople(db, fresh, caughtUp.people);
    this.opts.swap(fresh);
    this.mark = end;
    this.counters.rebuilds++;
    logger.info(fresh.stats(), 'index rebuilt and swapped in');
  }
}

/** Housekeeping: drop log entries the watcher has applied (they are never read again). */
export function pruneChangeLog(db: Db, appliedSeq: number): number {
  return cached(db, 'DELETE FROM change_log WHERE seq <= ?').run(appliedSeq).changes;
}
