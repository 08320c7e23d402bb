import { parse as parseStream } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { CARD_FORMATS } from '../config/schema.js';
import { boundOrNull, CARD_STATES, CardImportError, CardRows, CSV_OPTIONS, type CsvRecord } from './card-rows.js';
import { prepareCached as cached } from './db.js';
import { revokePersonTokens } from './people.js';
import type { Store, Tx } from './store.js';

export { CardImportError } from './card-rows.js';

/*
 * The operator's card list: `email,name,card,format[,state][,doors][,valid_from][,valid_to]`.
 * Cards are added or updated, never removed by omission. Standing staff grants (doors,
 * optionally dated) of every person named in the file become exactly what the file says.
 *
 * All or nothing, in two steps. The file is streamed once through the CSV parser and validated
 * row by row into compact columns (card-rows.ts); a bad row is reported with its line number,
 * and if there is any, nothing is written at all. Then one write transaction applies the rows,
 * checking first that no card belongs to someone else, and only then writing: set-based
 * statements over batches of rows (JSON arrays read by json_each), not six statements a row.
 * Why not a second parse instead of the columns: parsing is a third of the time at a million
 * rows. Why not one transaction around the parse: it would hold the write lock (and the
 * running gateway's audit writes) for the whole parse, and write rows of a file later rejected.
 */

export interface ImportSummary {
  people: number;
  cards: number;
  staffGrants: number;
}

/** Rows per statement: large enough that the per-statement cost vanishes, small enough to keep each JSON array a few hundred kB. */
export const IMPORT_BATCH = 10_000;

function knownDoors(store: Store): Set<string> {
  return new Set((cached(store.db, 'SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
}

/** A card list held in memory (the demo's sample, tests). */
export function importCards(store: Store, text: string, now: number): ImportSummary {
  const rows = new CardRows(knownDoors(store));
  let records: CsvRecord[];
  try {
    records = parseSync(text, CSV_OPTIONS) as CsvRecord[];
  } catch (err) {
    throw new CardImportError([`CSV: ${(err as Error).message}`]);
  }
  for (const r of records) rows.add(r);
  rows.check();
  return applyCardRows(store, rows, now);
}

/** `lintel cards import FILE`: the file is streamed, never read whole. */
export async function importCardFile(store: Store, file: string, now: number): Promise<ImportSummary> {
  const rows = new CardRows(knownDoors(store));
  const parser = parseStream(CSV_OPTIONS);
  // pipeline, not pipe: a read error (no such file, EIO) must reach the parser and end the loop below.
  pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), parser, () => undefined);
  try {
    for await (const r of parser as AsyncIterable<CsvRecord>) {
      rows.add(r);
      if (rows.full) break;
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    // A file that cannot be read is the operator's mistake, but not a CSV problem.
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw err;
    throw new CardImportError([...rows.problems, `CSV: ${(err as Error).message}`]);
  } finally {
    parser.destroy();
  }
  rows.check();
  return applyCardRows(store, rows, now);
}

/** Runs `fn` over [start, end) slices of 0..count. */
function inBatches(count: number, fn: (start: number, end: number) => void): void {
  for (let start = 0; start < count; start += IMPORT_BATCH) fn(start, Math.min(count, start + IMPORT_BATCH));
}

/** One write transaction (BEGIN IMMEDIATE: its first statement is a read, and a deferred one could not upgrade past the gateway's writes). */
export function applyCardRows(store: Store, rows: CardRows, now: number): ImportSummary {
  return store.transact(
    (tx) => {
      const revoke = checkCards(tx, rows);
      const ids = writePeople(tx, rows, now);
      writeCards(tx, rows, ids, now);
      for (const person of revoke) revokePersonTokens(tx, ids[person]!, now);
      writeStaffGrants(tx, rows, ids);
      return { people: rows.emails.length, cards: rows.cardRows, staffGrants: rows.grantPerson.length };
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
  const stmt = cached(
    tx.db,
    'SELECT j.key, c.state, p.email FROM json_each(?) j JOIN credentials c ON c.number = j.value JOIN people p ON p.id = c.person_id',
  ).raw();
  const problems: string[] = [];
  const revoke = new Set<number>();
  inBatches(rows.cardNumbers.length, (start, end) => {
    for (const [key, state, email] of stmt.all(JSON.stringify(rows.cardNumbers.slice(start, end))) as [number, string, string][]) {
      const card = start + key;
      const person = rows.cardPerson.get(card);
      if (email !== rows.emails[person]) problems.push(`line ${rows.cardLine.get(card)}: card: card number already belongs to another person`);
      else if (state === 'active' && CARD_STATES[rows.cardState.get(card)] !== 'active') revoke.add(person);
    }
  });
  if (problems.length > 0) throw new CardImportError(problems);
  return revoke;
}

/** The id of every person of the file, creating the new ones (with their member-token subject when the writer holds the key). */
function writePeople(tx: Tx, rows: CardRows, now: number): Float64Array {
  const ids = new Float64Array(rows.emails.length);
  const find = cached(tx.db, 'SELECT j.key, p.id, p.name FROM json_each(?) j JOIN people p ON p.email = j.value').raw();
  const rename = cached(tx.db, 'UPDATE people SET name = ?, updated_at = ? WHERE id = ?');
  const insert = cached(
    tx.db,
    `INSERT INTO people (email, name, created_at, updated_at, subject_hi, subject_lo, subject_key)
     SELECT j.value->>0, j.value->>1, @now, @now, j.value->>2, j.value->>3, @key FROM json_each(@rows) j ORDER BY j.key
     RETURNING id, email`,
  ).raw();
  const subjects = tx.subjects;
  inBatches(rows.emails.length, (start, end) => {
    const batch = rows.emails.slice(start, end);
    const found = new Uint8Array(end - start);
    for (const [key, id, name] of find.all(JSON.stringify(batch)) as [number, number, string | null][]) {
      found[key] = 1;
      ids[start + key] = id;
      const wanted = rows.names[start + key]!;
      // An unchanged row is not rewritten (nor logged for the gateway to refresh).
      if (wanted !== null && wanted !== name) rename.run(wanted, now, id);
    }
    const fresh: [string, string | null, number | null, number | null][] = [];
    const slotOf = new Map<string, number>();
    for (let k = 0; k < batch.length; k++) {
      if (found[k] === 1) continue;
      const subject = subjects?.of(batch[k]!);
      fresh.push([batch[k]!, rows.names[start + k]!, subject?.hi ?? null, subject?.lo ?? null]);
      slotOf.set(batch[k]!, start + k);
    }
    if (fresh.length === 0) return;
    const made = insert.all({ now, rows: JSON.stringify(fresh), key: subjects?.keyId ?? null }) as [number, string][];
    for (const [id, email] of made) ids[slotOf.get(email)!] = id;
  });
  return ids;
}

function writeCards(tx: Tx, rows: CardRows, ids: Float64Array, now: number): void {
  const upsert = cached(
    tx.db,
    `INSERT INTO credentials (person_id, number, format, state, created_at, updated_at)
     SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, @now, @now FROM json_each(@rows) j WHERE true ORDER BY j.key
     ON CONFLICT(number) DO UPDATE SET format = excluded.format, state = excluded.state, updated_at = excluded.updated_at`,
  );
  inBatches(rows.cardNumbers.length, (start, end) => {
    const batch: [number, string, string, string][] = [];
    for (let c = start; c < end; c++) {
      const id = ids[rows.cardPerson.get(c)]!;
      batch.push([id, rows.cardNumbers[c]!, CARD_FORMATS[rows.cardFormat.get(c)]!, CARD_STATES[rows.cardState.get(c)]!]);
      tx.touchPerson(id);
    }
    upsert.run({ now, rows: JSON.stringify(batch) });
  });
}

/** Every person of the file: their staff grants from earlier imports go, the file's go in. */
function writeStaffGrants(tx: Tx, rows: CardRows, ids: Float64Array): void {
  const drop = cached(tx.db, "DELETE FROM grants WHERE source = 'staff' AND source_id IN (SELECT 'import:' || value FROM json_each(?)) RETURNING person_id").raw();
  inBatches(rows.emails.length, (start, end) => {
    for (const [personId] of drop.all(JSON.stringify(rows.emails.slice(start, end))) as [number][]) tx.touchPerson(personId);
  });
  const insert = cached(
    tx.db,
    `INSERT INTO grants (person_id, door_id, valid_from, valid_to, source, source_id)
     SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, 'staff', 'import:' || (j.value->>4) FROM json_each(?) j ORDER BY j.key`,
  );
  inBatches(rows.grantPerson.length, (start, end) => {
    const batch: [number, string, number | null, number | null, string][] = [];
    for (let g = start; g < end; g++) {
      const person = rows.grantPerson.get(g);
      batch.push([ids[person]!, rows.grantDoor[g]!, boundOrNull(rows.grantFrom.get(g)), boundOrNull(rows.grantTo.get(g)), rows.emails[person]!]);
      tx.touchPerson(ids[person]!);
    }
    insert.run(JSON.stringify(batch));
  });
}
