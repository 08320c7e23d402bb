import { CardImportError, parseCardFile } from './card-import.js';
import type { CardRows } from './card-rows.js';

/*
 * The streamed card list (`lintel cards import`, card-stream.ts): one thread parses and
 * validates the file into CardRows, and every IMPORT_BATCH records cuts what is new since the
 * last cut into a CardBatch for the writing thread, so that the SQL of one batch runs while the
 * next is parsed. A batch holds plain arrays and typed arrays only (structured clone copies
 * them in one pass); people are named by their index in the file, which the writer maps to ids.
 */

export interface CardBatch {
  /** Index of the first new person: people are numbered in order of first appearance. */
  peopleStart: number;
  emails: string[];
  names: (string | null)[];
  /** Member-token subjects of the new people, when the parsing thread holds the key. */
  hi?: Uint32Array;
  lo?: Uint32Array;
  /** [person, name] of people handed over before whose name a later row changed. */
  renamed: [number, string][];
  /** Cards: the new ones first (`fresh` of them, checked against the stored cards), then the re-listed ones. */
  fresh: number;
  cardNumbers: string[];
  cardPerson: Int32Array;
  cardFormat: Int32Array;
  cardState: Int32Array;
  cardLine: Int32Array;
  grantPerson: Int32Array;
  grantDoor: string[];
  grantFrom: Float64Array;
  grantTo: Float64Array;
  memberPerson: Int32Array;
  memberGroup: string[];
  memberFrom: Float64Array;
  memberTo: Float64Array;
  /**
   * [person, email] of the people of earlier batches that this one's grants or memberships name:
   * the writer needs their email (the staff source id) and does not keep a million of them.
   */
  earlier: [number, string][];
}

/** The parse's outcome, after the last batch: any problems reject the file; else the counts of the summary. */
export interface CardStreamEnd {
  problems: string[];
  groupsColumn: boolean;
  people: number;
  cardRows: number;
  staffGrants: number;
  memberships: number;
}

/** What the parsing thread sends, in order: batches, then one end (or one failure: a file that cannot be read, a bug). */
export type CardStreamMessage = { batch: CardBatch } | { end: CardStreamEnd } | { failed: { message: string; code?: string } };

/** Everything in `rows` not yet sent, marked sent. `subjectOf`: the parsing thread's hasher, if it holds the key. */
export function cutBatch(rows: CardRows, subjectOf?: (email: string) => { hi: number; lo: number }): CardBatch {
  const sent = rows.sent;
  const emails = rows.emails.slice(sent.people);
  let hi: Uint32Array | undefined;
  let lo: Uint32Array | undefined;
  if (subjectOf !== undefined) {
    hi = new Uint32Array(emails.length);
    lo = new Uint32Array(emails.length);
    for (let k = 0; k < emails.length; k++) {
      const s = subjectOf(emails[k]!);
      hi[k] = s.hi;
      lo[k] = s.lo;
    }
  }
  // Re-listed cards go after the new ones, with the format and state the file now gives them.
  const recut = [...rows.recut];
  const cardCount = rows.cardNumbers.length;
  const slots = (column: { slice(s: number, e?: number): Int32Array; get(i: number): number }) => {
    const fresh = column.slice(sent.cards, cardCount);
    if (recut.length === 0) return fresh;
    const all = new Int32Array(fresh.length + recut.length);
    all.set(fresh);
    recut.forEach((slot, k) => (all[fresh.length + k] = column.get(slot)));
    return all;
  };
  const grantPerson = rows.grantPerson.slice(0);
  const memberPerson = rows.memberPerson.slice(0);
  const batch: CardBatch = {
    peopleStart: sent.people,
    emails,
    names: rows.names.slice(sent.people),
    hi,
    lo,
    renamed: rows.renamed.splice(0),
    fresh: cardCount - sent.cards,
    cardNumbers: [...rows.cardNumbers.slice(sent.cards), ...recut.map((slot) => rows.cardNumbers[slot]!)],
    cardPerson: slots(rows.cardPerson),
    cardFormat: slots(rows.cardFormat),
    cardState: slots(rows.cardState),
    cardLine: slots(rows.cardLine),
    grantPerson,
    grantDoor: rows.grantDoor.slice(),
    grantFrom: rows.grantFrom.slice(0),
    grantTo: rows.grantTo.slice(0),
    memberPerson,
    memberGroup: rows.memberGroup.slice(),
    memberFrom: rows.memberFrom.slice(0),
    memberTo: rows.memberTo.slice(0),
    earlier: earlierPeople(rows, grantPerson, memberPerson),
  };
  rows.recut.clear();
  sent.people = rows.emails.length;
  sent.cards = cardCount;
  rows.forgetGrants();
  return batch;
}

function earlierPeople(rows: CardRows, ...persons: Int32Array[]): [number, string][] {
  const before = rows.sent.people;
  const named = new Set<number>();
  for (const column of persons) for (const p of column) if (p < before) named.add(p);
  return [...named].map((p) => [p, rows.emails[p]!]);
}

/** The end message for rows whose parse is over (their problems include 'the file has no rows', as CardRows.check words it). */
export function streamEnd(rows: CardRows, extra: readonly string[] = []): CardStreamEnd {
  const problems = [...rows.problems, ...extra];
  if (problems.length === 0 && rows.records === 0) problems.push('the file has no rows');
  return {
    problems,
    groupsColumn: rows.groupsColumn,
    people: rows.emails.length,
    cardRows: rows.cardRows,
    staffGrants: rows.staffGrants,
    memberships: rows.memberships,
  };
}

/**
 * The parsing thread's whole job: `file` parsed into `rows`, a batch sent every `every`
 * records while no row is bad, then the end (or the failure). `send` returns false when the
 * writer wants nothing more; the parse then stops where it is.
 */
export async function streamCardFile(
  file: string,
  rows: CardRows,
  every: number,
  subjectOf: ((email: string) => { hi: number; lo: number }) | undefined,
  send: (m: CardStreamMessage) => boolean,
): Promise<void> {
  let cutAt = 0;
  let wanted = true;
  const cut = () => {
    cutAt = rows.records;
    wanted = send({ batch: cutBatch(rows, subjectOf) });
    if (!wanted) throw new StreamStopped();
  };
  try {
    await parseCardFile(file, rows, () => {
      if (rows.problems.length === 0 && rows.records - cutAt >= every) cut();
    });
    if (rows.problems.length === 0 && rows.records > cutAt) cut();
    send({ end: streamEnd(rows) });
  } catch (err) {
    if (!wanted) return;
    if (err instanceof CardImportError) send({ end: { ...streamEnd(rows), problems: err.problems } });
    else send({ failed: { message: (err as Error).message, code: (err as { code?: string }).code } });
  }
}

class StreamStopped extends Error {}
