import { z } from 'zod';
import { CARD_FORMATS, type CardFormat } from '../config/schema.js';
import { normalizeImportedCard } from '../readers/card-formats.js';
import { normalizeEmail, type CredentialState } from './people.js';

/*
 * The operator's card list, validated row by row into compact columns (card-import.ts applies
 * them). A row is never kept as the parser's object: at a million rows the parsed file held
 * whole was the import's 1.3 GB peak, while these columns hold what the write needs and no more.
 */

export class CardImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`card import rejected, nothing was applied:\n  ${problems.join('\n  ')}`);
    this.name = 'CardImportError';
  }
}

/** A row's fields; exported with plainRow for the test that they agree. */
export const rowSchema = z.object({
  email: z.email(),
  name: z.string().max(200).optional(),
  card: z.string().max(64).optional(),
  format: z.enum(CARD_FORMATS).optional(),
  state: z.enum(['active', 'disabled', 'lost']).optional(),
  doors: z.string().max(2000).optional(),
  groups: z.string().max(2000).optional(),
  valid_from: z.iso.datetime({ offset: true }).optional(),
  valid_to: z.iso.datetime({ offset: true }).optional(),
});

type Row = z.infer<typeof rowSchema>;
const NONE: readonly string[] = [];
const FORMATS: ReadonlySet<string> = new Set(CARD_FORMATS);
const STATES: ReadonlySet<string> = new Set(['active', 'disabled', 'lost']);
const MAX_LENGTH: ReadonlyMap<string, number> = new Map([['name', 200], ['card', 64], ['doors', 2000], ['groups', 2000]]);

/**
 * The row as rowSchema parses it, when it plainly passes: an email of zod's own pattern
 * (z.email() is that regex), strings within their bounds, a known format and state, no dates.
 * Undefined for anything else, which rowSchema then parses and words. At a million rows the
 * schema walk was most of the validation's CPU.
 */
export function plainRow(record: Record<string, string>): Row | undefined {
  const email = record.email;
  if (email === undefined || !z.regexes.email.test(email)) return undefined;
  const row: Row = { email };
  for (const k in record) {
    const v = record[k]!;
    if (v === '' || k === 'email') continue;
    const max = MAX_LENGTH.get(k);
    if (max !== undefined) {
      if (v.length > max) return undefined;
      (row as Record<string, string>)[k] = v;
    } else if (k === 'format') {
      if (!FORMATS.has(v)) return undefined;
      row.format = v as CardFormat;
    } else if (k === 'state') {
      if (!STATES.has(v)) return undefined;
      row.state = v as CredentialState;
    } else if (k === 'valid_from' || k === 'valid_to') {
      return undefined;
    }
    // Any other column is ignored, as rowSchema strips it.
  }
  return row;
}

/**
 * csv-parse options of both entry points (file and text), so they report the same errors. No
 * per-record `info`: the file's parser reads the line number off its live count (card-import.ts).
 */
export const CSV_OPTIONS = {
  columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
  skip_empty_lines: true,
  trim: true,
  bom: true,
} as const;

/** A growable column of numbers in a typed array: a JS array of a million numbers costs 8-16 bytes each, plus its growth slack. */
export class Column<A extends Int32Array | Float64Array> {
  length = 0;
  constructor(private data: A) {}

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new (this.data.constructor as new (n: number) => A)(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  set(i: number, v: number): void {
    this.data[i] = v;
  }

  /** Empties the column and lets its memory go. */
  clear(): void {
    this.data = new (this.data.constructor as new (n: number) => A)(1024);
    this.length = 0;
  }

  /** A copy of [start, end), for a batch sent to another thread. */
  slice(start: number, end = this.length): A {
    return this.data.slice(start, Math.min(end, this.length)) as A;
  }
}

const int32 = () => new Column(new Int32Array(1024));
const float64 = () => new Column(new Float64Array(1024));
/** Grant bounds: NaN stands for open (null). */
const OPEN = Number.NaN;
export const boundOrNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

export const CARD_STATES: readonly CredentialState[] = ['active', 'disabled', 'lost'];

/** Stops the parse after this many problems: a wrong file (say, the wrong columns) fails every row. */
const MAX_PROBLEMS = 1000;

/**
 * The valid rows of one file. People in order of first appearance (the last non-empty name
 * wins, as when the rows were applied one by one); cards once each (a card listed twice for the
 * same person takes the later row's format and state); staff grants in file order.
 */
export class CardRows {
  readonly problems: string[] = [];
  records = 0;
  /** Rows that name a card, duplicates included (what the summary has always counted). */
  cardRows = 0;
  readonly emails: string[] = [];
  readonly names: (string | null)[] = [];
  readonly cardNumbers: string[] = [];
  readonly cardPerson = int32();
  /** Indexes into CARD_FORMATS and CARD_STATES. */
  readonly cardFormat = int32();
  readonly cardState = int32();
  readonly cardLine = int32();
  readonly grantPerson = int32();
  /** Door ids are the configured strings (one copy each), not a fresh string a row. */
  readonly grantDoor: string[] = [];
  readonly grantFrom = float64();
  readonly grantTo = float64();
  /** Whether the file has a `groups` column: only then are the people's 'staff' memberships replaced. */
  groupsColumn = false;
  /** Staff memberships in file order, bounded like the row's door grants. */
  readonly memberPerson = int32();
  readonly memberGroup: string[] = [];
  readonly memberFrom = float64();
  readonly memberTo = float64();
  /**
   * What a streamed import has already handed to its writer (card-batches.ts): people and cards
   * below these counts (its grants and memberships are dropped once sent: forgetGrants). A later
   * row that changes a person's name or a card's format or state of what was handed over is
   * noted in `renamed` / `recut`.
   */
  readonly sent = { people: 0, cards: 0, grants: 0, members: 0 };
  readonly renamed: [number, string][] = [];
  readonly recut = new Set<number>();
  private readonly personOf = new Map<string, number>();
  private readonly cardOf = new Map<string, number>();
  private readonly doors: ReadonlyMap<string, string>;
  private readonly groups: ReadonlyMap<string, string>;

  /**
   * `knownGroups`: the configuration's access-group ids. Absent (a configuration without
   * accessGroups), every group a row names is unknown, and refused like an unknown door.
   */
  constructor(knownDoors: Iterable<string>, knownGroups?: ReadonlySet<string>) {
    this.doors = new Map([...knownDoors].map((d) => [d, d]));
    this.groups = new Map([...(knownGroups ?? [])].map((g) => [g, g]));
  }

  get full(): boolean {
    return this.problems.length >= MAX_PROBLEMS;
  }

  /** One record of the CSV; `line` is the parser's line number for it. */
  add(record: Record<string, string>, line: number): void {
    this.records++;
    if (this.records === 1) this.groupsColumn = 'groups' in record;
    const problems = this.problems;
    // zod only for a row the plain checks below do not pass: it alone words the problems, so
    // a bad row is reported as it always was, and a good one costs no schema walk.
    let r = plainRow(record);
    if (r === undefined) {
      const cleaned: Record<string, string> = {};
      for (const k in record) if (record[k] !== '') cleaned[k] = record[k]!;
      const parsed = rowSchema.safeParse(cleaned);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push(`line ${line}: ${issue.path.join('.') || 'row'}: ${issue.message}`);
        return;
      }
      r = parsed.data;
    }
    const email = normalizeEmail(r.email);
    let card: { number: string; format: CardFormat } | null = null;
    if (r.card !== undefined) {
      const format = r.format ?? 'decimal';
      const read = normalizeImportedCard(r.card, format);
      if (!read.ok) {
        problems.push(`line ${line}: card: not a valid ${format} card number (${read.reason})`);
        return;
      }
      const slot = this.cardOf.get(read.number);
      if (slot !== undefined && this.emails[this.cardPerson.get(slot)] !== email) {
        problems.push(`line ${line}: card: the same card is also listed for another person`);
        return;
      }
      card = { number: read.number, format };
    }
    const doors = r.doors === undefined ? NONE : r.doors.split(/[;\s|]+/).filter((d) => d !== '');
    const unknown = doors.filter((d) => !this.doors.has(d));
    if (unknown.length > 0) problems.push(`line ${line}: doors: unknown door ${unknown.map((d) => `"${d}"`).join(', ')}`);
    // Group ids are ';'-separated only: unlike door lists, they are the operator's names and may hold spaces.
    const groups = r.groups === undefined ? NONE : r.groups.split(';').map((g) => g.trim()).filter((g) => g !== '');
    const unknownGroups = groups.filter((g) => !this.groups.has(g));
    if (unknownGroups.length > 0) problems.push(`line ${line}: groups: unknown access group ${unknownGroups.map((g) => `"${g}"`).join(', ')}`);
    const from = r.valid_from === undefined ? null : Date.parse(r.valid_from);
    const to = r.valid_to === undefined ? null : Date.parse(r.valid_to);
    if (from !== null && to !== null && to <= from) problems.push(`line ${line}: valid_to must be after valid_from`);
    if (doors.length === 0 && groups.length === 0 && (from !== null || to !== null)) problems.push(`line ${line}: valid_from/valid_to need doors or groups`);
    const person = this.person(email, r.name ?? null);
    if (card !== null) this.addCard(person, card.number, card.format, r.state ?? 'active', line);
    for (const door of doors) {
      this.grantPerson.push(person);
      this.grantDoor.push(this.doors.get(door) ?? door);
      this.grantFrom.push(from ?? OPEN);
      this.grantTo.push(to ?? OPEN);
    }
    for (const group of groups) {
      this.memberPerson.push(person);
      this.memberGroup.push(this.groups.get(group) ?? group);
      this.memberFrom.push(from ?? OPEN);
      this.memberTo.push(to ?? OPEN);
    }
  }

  /** Grants and memberships so far, also those forgotten. */
  get staffGrants(): number {
    return this.sent.grants + this.grantPerson.length;
  }

  get memberships(): number {
    return this.sent.members + this.memberPerson.length;
  }

  /** A streamed import's sent grants and memberships: nothing looks at them again (a million rows: ~30 MB). */
  forgetGrants(): void {
    this.sent.grants += this.grantPerson.length;
    this.sent.members += this.memberPerson.length;
    for (const c of [this.grantPerson, this.grantFrom, this.grantTo, this.memberPerson, this.memberFrom, this.memberTo]) c.clear();
    this.grantDoor.length = 0;
    this.memberGroup.length = 0;
  }

  /** Throws CardImportError when any row was invalid or there was none. */
  check(): void {
    if (this.records === 0) this.problems.push('the file has no rows');
    if (this.problems.length > 0) throw new CardImportError(this.problems);
  }

  private person(email: string, name: string | null): number {
    let p = this.personOf.get(email);
    if (p === undefined) {
      p = this.emails.length;
      this.personOf.set(email, p);
      this.emails.push(email);
      this.names.push(name);
    } else if (name !== null) {
      if (p < this.sent.people && this.names[p] !== name) this.renamed.push([p, name]);
      this.names[p] = name;
    }
    return p;
  }

  private addCard(person: number, number: string, format: CardFormat, state: CredentialState, line: number): void {
    this.cardRows++;
    const slot = this.cardOf.get(number);
    const f = CARD_FORMATS.indexOf(format);
    const st = CARD_STATES.indexOf(state);
    if (slot !== undefined) {
      this.cardFormat.set(slot, f);
      this.cardState.set(slot, st);
      if (slot < this.sent.cards) this.recut.add(slot);
      return;
    }
    this.cardOf.set(number, this.cardNumbers.length);
    this.cardNumbers.push(number);
    this.cardPerson.push(person);
    this.cardFormat.push(f);
    this.cardState.push(st);
    this.cardLine.push(line);
  }
}
