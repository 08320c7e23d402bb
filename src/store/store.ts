import type { Transaction } from 'better-sqlite3';
import { prepareCached as cached, type Db } from './db.js';
import { CredentialsRepository } from './credentials-repository.js';
import { GrantsRepository } from './grants-repository.js';
import { GroupsRepository } from './groups-repository.js';
import { PeopleRepository } from './people-repository.js';
import { SiteRepository } from './site-repository.js';
import type { SubjectHasher } from './subject-columns.js';

/** What a committed transaction touched, so the in-memory index can refresh just that. */
export interface ChangeSet {
  people: ReadonlySet<number>;
  /** The door set, the resource mapping or a site flag (lockdown) changed: refresh the site-wide part. */
  doors: boolean;
}

/**
 * One transaction's view of the store: a repository per aggregate, each owning its SQL. None
 * has to tell the index what it wrote: the change_log triggers (migrations 6 and 11) record
 * every row, from any writer, and Store.transact reads its own rows back at commit.
 */
export interface Tx {
  /** The raw handle, for src/store/ only (appointments, upstream state, snapshots); other folders use the repositories. */
  readonly db: Db;
  /** Stores each new person's member-token subject when the writer holds the token key. */
  readonly subjects: SubjectHasher | undefined;
  readonly people: PeopleRepository;
  readonly credentials: CredentialsRepository;
  readonly grants: GrantsRepository;
  /** Access-group memberships (person_groups). */
  readonly groups: GroupsRepository;
  /** Site-wide flags: lockdown. */
  readonly site: SiteRepository;
  /** Runs `fn` in a savepoint: if it throws, only its writes roll back and the transaction goes on. */
  savepoint<T>(fn: () => T): T;
}

/** Anything that holds the database: a Store or a Tx. Readers in src/store/ take this, so callers never hold the handle. */
export interface DbHolder {
  readonly db: Db;
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
 *
 * What changed is not declared by the writers (a forgotten call was a door left open or shut
 * until the next restart): it is what the change_log triggers wrote in this transaction, the
 * rows above the log's mark at BEGIN, read just before COMMIT. A deferred transaction whose
 * writes follow that first read cannot have another connection's commit in between (SQLite
 * refuses the write, SQLITE_BUSY_SNAPSHOT), so every row read is ours.
 */
export class Store {
  private readonly listeners: Listener[] = [];
  private listenerFailed: ((err: unknown) => void) | null = null;
  /** Whether an outermost transaction is open (a nested transact is its savepoint). */
  private open = false;
  private readonly tx: Tx;
  /**
   * One better-sqlite3 transaction function for every transaction and savepoint of this
   * connection, the body passed at each call: db.transaction(fn) builds four wrappers and their
   * properties at every call, about 7 µs, and a sweep opens a transaction and a savepoint per
   * fetched list. BEGIN or SAVEPOINT is still chosen at each call (db.inTransaction).
   */
  private readonly inTransaction: Transaction<(body: () => unknown) => unknown>;

  /** `subjects`: the token key's hasher, so that people are written with their subject (migration 8). */
  constructor(
    readonly db: Db,
    readonly subjects?: SubjectHasher,
  ) {
    const people = new PeopleRepository(db, subjects);
    const inTransaction = (this.inTransaction = db.transaction((body: () => unknown) => body()));
    this.tx = {
      db,
      subjects,
      people,
      credentials: new CredentialsRepository(db, people),
      grants: new GrantsRepository(db),
      groups: new GroupsRepository(db),
      site: new SiteRepository(db),
      savepoint: <T>(fn: () => T) => inTransaction(fn) as T,
    };
  }

  /**
   * Reads in one snapshot (a deferred transaction: it takes no lock, so a writer elsewhere never
   * makes it wait). Only for reads: a write here would bypass the change log's commit handling.
   */
  read<T>(fn: (tx: Tx) => T): T {
    if (this.open || this.db.inTransaction) return fn(this.tx);
    return this.inTransaction(() => fn(this.tx)) as T;
  }

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
    const tx = this.tx;
    // A nested transact is a savepoint of the outer one: its log rows are read when the outer
    // commits, never before (the outer may still roll back what the index would be told).
    if (this.open) return this.inTransaction(() => fn(tx)) as T;
    // No listener (the CLI, a bulk import of a million rows): nobody to tell, no log to read.
    const told = this.listeners.length > 0;
    let change: ChangeSet | null = null;
    this.open = true;
    let result: T;
    try {
      const body = (): T => {
        const mark = told ? logMark(this.db) : 0;
        const value = fn(tx);
        if (told) change = changesAfter(this.db, mark);
        return value;
      };
      // With the log mark read first, a deferred transaction would be a reader that later writes:
      // if another connection commits in between, SQLite refuses its first write at once with
      // SQLITE_BUSY, without waiting (the resilience load test lost 19 of 2,000 callbacks so).
      // BEGIN IMMEDIATE takes the write lock before the read, waiting as the connection's busy
      // timeout allows (none on the main thread: it never waits, db.ts).
      const immediate = options.immediate === true || told;
      result = withSynchronous(this.db, options.durability ?? 'full', () => (immediate ? this.inTransaction.immediate(body) : this.inTransaction(body)) as T);
    } finally {
      this.open = false;
    }
    const committed = change as ChangeSet | null;
    if (committed !== null && (committed.people.size > 0 || committed.doors)) this.notify(committed);
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

/** The change log's high-water mark (AUTOINCREMENT keeps it in sqlite_sequence even once pruned). */
function logMark(db: Db): number {
  // Its own SQL text: prepareCached shares a statement per text, and pluck() is a mode of the statement.
  const seq = cached(db, "SELECT seq AS mark FROM sqlite_sequence WHERE name = 'change_log'").pluck().get() as number | undefined;
  return seq ?? 0;
}

/** What the log rows after `mark` name: this transaction's own writes (see Store). */
function changesAfter(db: Db, mark: number): ChangeSet {
  const people = new Set<number>();
  let doors = false;
  for (const [person, door] of cached(db, 'SELECT person_id, doors FROM change_log WHERE seq > ? ORDER BY seq').raw().iterate(mark) as IterableIterator<[number | null, number]>) {
    if (person !== null) people.add(person);
    if (door === 1) doors = true;
  }
  return { people, doors };
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
