import { Parser } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { CARD_FORMATS } from '../config/schema.js';
import { boundOrNull, CARD_STATES, CardImportError, CardRows, CSV_OPTIONS } from './card-rows.js';
import { prepareCached as cached } from './db.js';
import { staffImportSourceId } from './grants-repository.js';
import type { Store, Tx } from './store.js';
import type { SubjectBatches } from './subject-columns.js';

export { CardImportError } from './card-rows.js';

/*
 * The operator's card list: `email,name,card,format[,state][,doors][,groups][,valid_from][,valid_to]`.
 * Cards are added or updated, never removed by omission. Standing staff grants (doors,
 * optionally dated) of every person named in the file become exactly what the file says, and
 * so do their 'staff' access-group memberships when the file has a `groups` column
 * (`;`-separated ids of the configuration's accessGroups; a file without the column, written
 * before groups existed, leaves memberships alone).
 *
 * All or nothing, in two steps. The file is streamed once through the CSV parser and validated
 * row by row into compact columns (card-rows.ts); a bad row is reported with its line number,
 * and if there is any, nothing is written at all. Then one write transaction applies the rows,
 * checking first that no card belongs to someone else, and only then writing: set-based
 * statements over batches of rows (JSON arrays read by json_each), not six statements a row.
 * Why not a second parse instead of the columns: parsing is a third of the time at a million
 * rows. This is the one-thread import (the text path, the CLI's fallback). The CLI itself
 * streams (card-stream.ts): one thread parses while the other writes the batches in one
 * transaction, rolled back if the file turns out bad. That holds the write lock from the first
 * batch instead of after the parse, but the writes were the longer phase (6.2 s against 3.4 s
 * at a million rows), so the lock is held about as long as before and the import ends ~3 s sooner.
 */

export interface ImportSummary {
  people: number;
  cards: number;
  staffGrants: number;
  /** Staff access-group memberships written; only for a file with a groups column. */
  memberships?: number;
}

export interface ImportOptions {
  /**
   * The configuration's access-group ids (its `accessGroups`). A row naming any other id is
   * refused with its line number and nothing is written; absent, every group id is unknown.
   */
  knownGroups?: ReadonlySet<string>;
}

/** Rows per statement: large enough that the per-statement cost vanishes, small enough to keep each JSON array a few hundred kB. */
export const IMPORT_BATCH = 10_000;

/** The doors a card list may name (the store's, kept in step with the configuration). */
export function knownDoors(store: Store): Set<string> {
  return new Set((cached(store.db, 'SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
}

/** A card list held in memory (the demo's sample, tests). */
export function importCards(store: Store, text: string, now: number, options: ImportOptions = {}): ImportSummary {
  const rows = new CardRows(knownDoors(store), options.knownGroups);
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parseSync(text, { ...CSV_OPTIONS, info: true }) as typeof records;
  } catch (err) {
    throw new CardImportError([`CSV: ${(err as Error).message}`]);
  }
  for (const r of records) rows.add(r.record, r.info.lines);
  rows.check();
  return applyCardRows(store, rows, now);
}

/**
 * csv-parse's stream, each record handed over the moment it is parsed, with the parser's live
 * line count: the number its per-record `info` copies at that same moment (building that
 * object was ~2 s of a million-row parse), and no records queued between parser and reader.
 */
class LineParser extends Parser {
  constructor(private readonly onRecord: (record: Record<string, string>, line: number) => void) {
    super(CSV_OPTIONS);
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(null, encoding);
    this.onRecord(chunk as Record<string, string>, this.info.lines);
    return true;
  }
}

/**
 * Streams `file` through the CSV parser into `rows`, `added` called after each record (not
 * after the one that makes the problems too many: the parse stops there). Throws the read
 * error of a file that cannot be read (the operator's mistake, not a CSV problem), and
 * CardImportError for a malformed CSV, after the problems of the rows before it.
 */
export async function parseCardFile(file: string, rows: CardRows, added: () => void = () => undefined): Promise<void> {
  const stop = new AbortController();
  const parser = new LineParser((record, line) => {
    if (rows.full) return;
    rows.add(record, line);
    if (rows.full) stop.abort();
    else added();
  });
  parser.resume(); // its readable side never holds a record: flowing, it ends with the file
  try {
    // pipeline: a read error (no such file, EIO) reaches the parser and ends the parse.
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), parser, { signal: stop.signal });
  } catch (err) {
    if (rows.full) return;
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw err;
    throw new CardImportError([...rows.problems, `CSV: ${(err as Error).message}`]);
  }
}

/** `lintel cards import FILE` on one thread (the CLI's fallback, tests): the file is streamed, never read whole. */
export async function importCardFile(store: Store, file: string, now: number, options: ImportOptions = {}): Promise<ImportSummary> {
  const rows = new CardRows(knownDoors(store), options.knownGroups);
  const feed = new SubjectFeed(store, rows);
  try {
    await parseCardFile(file, rows, () => feed.parsed());
  } catch (err) {
    feed.cancel();
    throw err;
  }
  if (rows.problems.length > 0 || rows.records === 0) feed.cancel();
  rows.check();
  return applyCardRows(store, rows, now, await feed.finish());
}

/**
 * The file's people go to a subject thread in batches as the parse meets them, once there are
 * enough for a thread to pay (~30 ms to start one). Everyone's subject is computed, also of
 * people who turn out to exist already: which those are is known only inside the transaction,
 * and the thread's core is otherwise idle during the parse.
 */
class SubjectFeed {
  private thread: SubjectBatches | undefined;
  private fed = 0;

  constructor(
    private readonly store: Store,
    private readonly rows: CardRows,
  ) {}

  parsed(): void {
    const people = this.rows.emails.length;
    if (people - this.fed < IMPORT_BATCH) return;
    this.thread ??= this.store.subjects?.onThread?.();
    if (this.thread === undefined) return;
    this.thread.add(this.rows.emails.slice(this.fed, people));
    this.fed = people;
  }

  async finish(): Promise<Subjects | undefined> {
    if (this.thread === undefined) return undefined;
    this.thread.add(this.rows.emails.slice(this.fed));
    return this.thread.finish();
  }

  cancel(): void {
    this.thread?.cancel();
    this.thread = undefined;
  }
}

/** A first import has nothing stored to check or replace: a million lookups into an empty table are not free. */
export function isEmpty(tx: Tx, table: 'people' | 'credentials' | 'grants' | 'person_groups'): boolean {
  return cached(tx.db, `SELECT NOT EXISTS (SELECT 1 FROM ${table}) AS empty`).pluck().get() === 1;
}

/** Runs `fn` over [start, end) slices of 0..count. */
function inBatches(count: number, fn: (start: number, end: number) => void): void {
  for (let start = 0; start < count; start += IMPORT_BATCH) fn(start, Math.min(count, start + IMPORT_BATCH));
}

/** One write transaction (BEGIN IMMEDIATE: its first statement is a read, and a deferred one could not upgrade past the gateway's writes). */
export function applyCardRows(store: Store, rows: CardRows, now: number, subjects?: Subjects): ImportSummary {
  return store.transact(
    (tx) => {
      const revoke = checkCards(tx, rows);
      const ids = writePeople(tx, rows, now, subjects);
      writeCards(tx, rows, ids, now);
      for (const person of revoke) tx.people.revokeTokens(ids[person]!, now);
      writeStaffGrants(tx, rows, ids);
      const summary: ImportSummary = { people: rows.emails.length, cards: rows.cardRows, staffGrants: rows.grantPerson.length };
      if (rows.groupsColumn) {
        writeStaffMemberships(tx, rows, ids);
        summary.memberships = rows.memberPerson.length;
      }
      return summary;
    },
    { immediate: true },
  );
}

/**
 * Before anything is written: a card that is stored for another person rejects the file (moving
 * a badge between people is an explicit operator act). Returns the people whose member tokens
 * the import voids: an active card of theirs that the file disables or marks lost.
 */
function checkCards(tx: Tx, rows: CardRows): Set<number> {
  const problems: string[] = [];
  const revoke = new Set<number>();
  if (isEmpty(tx, 'credentials')) return revoke;
  inBatches(rows.cardNumbers.length, (start, end) => {
    for (const [key, state, email] of tx.credentials.holdersOf(rows.cardNumbers.slice(start, end))) {
      const card = start + key;
      const person = rows.cardPerson.get(card);
      if (email !== rows.emails[person]) problems.push(`line ${rows.cardLine.get(card)}: card: card number already belongs to another person`);
      else if (state === 'active' && CARD_STATES[rows.cardState.get(card)] !== 'active') revoke.add(person);
    }
  });
  if (problems.length > 0) throw new CardImportError(problems);
  return revoke;
}

/** Member-token subjects of the file's people, by their index in `rows.emails` (the subject thread's answer). */
type Subjects = { hi: Uint32Array; lo: Uint32Array };

/**
 * The id of every person of the file, creating the new ones (with their member-token subject
 * when the writer holds the key). New people are numbered after the highest id, as SQLite
 * would number them, so that no id has to come back from the insert.
 */
function writePeople(tx: Tx, rows: CardRows, now: number, subjects: Subjects | undefined): Float64Array {
  const ids = new Float64Array(rows.emails.length);
  let next = tx.people.lastId();
  // An empty table (a first import) has nobody to look up.
  const anyone = next > 0;
  inBatches(rows.emails.length, (start, end) => {
    const batch = rows.emails.slice(start, end);
    const found = new Uint8Array(end - start);
    if (anyone) {
      for (const [key, id, name] of tx.people.findMany(batch)) {
        found[key] = 1;
        ids[start + key] = id;
        const wanted = rows.names[start + key]!;
        // An unchanged row is not rewritten (nor logged for the gateway to refresh).
        if (wanted !== null && wanted !== name) tx.people.rename(id, wanted, now);
      }
    }
    const fresh: [number, string, string | null, number | null, number | null][] = [];
    for (let k = 0; k < batch.length; k++) {
      if (found[k] === 1) continue;
      const p = start + k;
      const subject = subjects === undefined ? tx.people.subjectOf(batch[k]!) : { hi: subjects.hi[p]!, lo: subjects.lo[p]! };
      ids[p] = ++next;
      fresh.push([next, batch[k]!, rows.names[p]!, subject?.hi ?? null, subject?.lo ?? null]);
    }
    if (fresh.length > 0) tx.people.insertNumbered(fresh, now);
  });
  return ids;
}

function writeCards(tx: Tx, rows: CardRows, ids: Float64Array, now: number): void {
  inBatches(rows.cardNumbers.length, (start, end) => {
    const batch: [number, string, string, (typeof CARD_STATES)[number]][] = [];
    for (let c = start; c < end; c++) {
      batch.push([ids[rows.cardPerson.get(c)]!, rows.cardNumbers[c]!, CARD_FORMATS[rows.cardFormat.get(c)]!, CARD_STATES[rows.cardState.get(c)]!]);
    }
    tx.credentials.upsertMany(batch, now);
  });
}

/** Every person of the file: their staff grants from earlier imports go, the file's go in. */
function writeStaffGrants(tx: Tx, rows: CardRows, ids: Float64Array): void {
  if (!isEmpty(tx, 'grants')) inBatches(rows.emails.length, (start, end) => tx.grants.dropStaffImports(rows.emails.slice(start, end)));
  inBatches(rows.grantPerson.length, (start, end) => {
    const batch: [number, string, number | null, number | null, string][] = [];
    for (let g = start; g < end; g++) {
      const person = rows.grantPerson.get(g);
      batch.push([ids[person]!, rows.grantDoor[g]!, boundOrNull(rows.grantFrom.get(g)), boundOrNull(rows.grantTo.get(g)), rows.emails[person]!]);
    }
    tx.grants.insertStaffImports(batch);
  });
}

/** With a groups column: every person of the file has exactly the file's 'staff' memberships (an empty cell: none). */
function writeStaffMemberships(tx: Tx, rows: CardRows, ids: Float64Array): void {
  if (!isEmpty(tx, 'person_groups')) inBatches(ids.length, (start, end) => tx.groups.dropStaffOf(Array.from(ids.subarray(start, end))));
  inBatches(rows.memberPerson.length, (start, end) => {
    const batch: [number, string, number | null, number | null, string][] = [];
    for (let m = start; m < end; m++) {
      const person = rows.memberPerson.get(m);
      batch.push([ids[person]!, rows.memberGroup[m]!, boundOrNull(rows.memberFrom.get(m)), boundOrNull(rows.memberTo.get(m)), staffImportSourceId(rows.emails[person]!)]);
    }
    tx.groups.insertStaff(batch);
  });
}
