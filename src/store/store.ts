import type { Db } from './db.js';
import type { SubjectHasher } from './subject-columns.js';

/** What a committed transaction touched, so the in-memory index can refresh just that. */
export interface ChangeSet {
  people: ReadonlySet<number>;
  doors: boolean;
}

export interface Tx {
  readonly db: Db;
  /** Stores each new person's member-token subject when the writer holds the token key. */
  readonly subjects: SubjectHasher | undefined;
  /** Marks a person whose credentials, state or grants changed in this transaction. */
  touchPerson(id: number): void;
  touchDoors(): void;
}

type Listener = (change: ChangeSet) => void;

/**
 * How a commit reaches the disk (docs/durability.md). 'full': the WAL is fsynced before
 * transact returns, so a power cut cannot roll back what the caller reported done (operator
 * changes: people, cards, staff grants, suspensions). 'normal': durable across a process crash,
 * and on power loss the newest commits may roll back; only for writes that are re-derived or
 * re-run anyway (platform-derived grants, replay ids, pruning), which must not pay an fsync each.
 */
export type Durability = 'full' | 'normal';

export interface TransactOptions {
  durability?: Durability;
  /**
   * BEGIN IMMEDIATE: take the write lock first (waiting up to the busy timeout). For a long
   * transaction that reads before it writes, which as a deferred one would fail with
   * SQLITE_BUSY at its first write if another connection committed after its first read.
   */
  immediate?: boolean;
}

/**
 * The single write path. Every mutation runs inside `transact`; when the SQLite transaction
 * commits, listeners (the access index) are told synchronously what changed. better-sqlite3 is
 * synchronous, so no badge decision can run between the commit and the index refresh.
 * A transaction that throws rolls back and notifies nobody: a rejected input changes nothing.
 */
export class Store {
  private readonly listeners: Listener[] = [];
  private listenerFailed: ((err: unknown) => void) | null = null;
  /** What the outermost open transaction has touched so far; nested calls add to it. */
  private open: { people: Set<number>; doors: boolean } | null = null;

  /** `subjects`: the token key's hasher, so that people are written with their subject (migration 8). */
  constructor(
    readonly db: Db,
    readonly subjects?: SubjectHasher,
  ) {}

  onCommit(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Where a listener's failure goes once the commit is done (the gateway logs, counts and has
   * the index rebuilt beside the live one). Without it the first failure is thrown to the
   * writer, after every listener has run.
   */
  onListenerError(handler: (err: unknown) => void): void {
    this.listenerFailed = handler;
  }

  transact<T>(fn: (tx: Tx) => T, options: TransactOptions = {}): T {
    // A nested transact is a savepoint of the outer one: what it touched is told when the
    // outer commits, never before (the outer may still roll back what the index was told).
    const outer = this.open;
    const change = outer ?? { people: new Set<number>(), doors: false };
    const tx: Tx = {
      db: this.db,
      subjects: this.subjects,
      touchPerson: (id) => void change.people.add(id),
      touchDoors: () => {
        change.doors = true;
      },
    };
    if (outer) return this.db.transaction(() => fn(tx))();
    this.open = change;
    let result: T;
    try {
      const run = this.db.transaction(() => fn(tx));
      result = withSynchronous(this.db, options.durability ?? 'full', () => (options.immediate === true ? run.immediate() : run()));
    } finally {
      this.open = null;
    }
    if (change.people.size > 0 || change.doors) this.notify(change);
    return result;
  }

  /** Every listener hears of the commit, whatever an earlier one threw: the data is committed. */
  private notify(change: ChangeSet): void {
    let first: { err: unknown } | null = null;
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        if (this.listenerFailed) this.listenerFailed(err);
        else first ??= { err };
      }
    }
    if (first) throw first.err;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Runs one commit at a synchronous level and restores the connection default (NORMAL).
 * SQLite refuses to change the level inside a transaction: a nested call inherits the outer one.
 */
export function withSynchronous<T>(db: Db, durability: Durability, fn: () => T): T {
  if (db.inTransaction || durability === 'normal') return fn();
  db.pragma('synchronous = FULL');
  try {
    return fn();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}
