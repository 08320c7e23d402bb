import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { CARD_FORMATS, type CardFormat } from '../config/schema.js';
import { normalizeImportedCard } from '../readers/card-formats.js';
import { replaceSourceGrants, type GrantInput } from './grants.js';
import { assignCredential, normalizeEmail, upsertPerson, type CredentialState } from './people.js';
import type { Store } from './store.js';

/*
 * The operator's card list: `email,name,card,format[,state][,doors][,valid_from][,valid_to]`.
 * The whole file is validated before anything is written, then applied in one transaction:
 * a bad row is reported with its line number and nothing of that file is half-applied.
 * Cards are added or updated, never removed by omission. Standing staff grants (doors,
 * optionally dated) of every person named in the file become exactly what the file says.
 */

export class CardImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`card import rejected, nothing was applied:\n  ${problems.join('\n  ')}`);
    this.name = 'CardImportError';
  }
}

export interface ImportSummary {
  people: number;
  cards: number;
  staffGrants: number;
}

const rowSchema = z.object({
  email: z.email(),
  name: z.string().max(200).optional(),
  card: z.string().max(64).optional(),
  format: z.enum(CARD_FORMATS).optional(),
  state: z.enum(['active', 'disabled', 'lost']).optional(),
  doors: z.string().max(2000).optional(),
  valid_from: z.iso.datetime({ offset: true }).optional(),
  valid_to: z.iso.datetime({ offset: true }).optional(),
});

interface ParsedRow {
  line: number;
  email: string;
  name: string | null;
  card: { number: string; format: CardFormat; state: CredentialState } | null;
  doors: string[];
  from: number | null;
  to: number | null;
}

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

export function parseCardCsv(text: string, knownDoors: ReadonlySet<string>): ParsedRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      info: true,
      bom: true,
    }) as typeof records;
  } catch (err) {
    throw new CardImportError([`CSV: ${(err as Error).message}`]);
  }
  const problems: string[] = [];
  const rows: ParsedRow[] = [];
  const cardOwner = new Map<string, string>();
  for (const { record, info } of records) {
    const line = info.lines;
    const cleaned = Object.fromEntries(Object.entries(record).map(([k, v]) => [k, emptyToUndefined(v)]));
    const parsed = rowSchema.safeParse(cleaned);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`line ${line}: ${issue.path.join('.') || 'row'}: ${issue.message}`);
      continue;
    }
    const r = parsed.data;
    const email = normalizeEmail(r.email);
    let card: ParsedRow['card'] = null;
    if (r.card !== undefined) {
      const format = r.format ?? 'decimal';
      const read = normalizeImportedCard(r.card, format);
      if (!read.ok) {
        problems.push(`line ${line}: card: not a valid ${format} card number (${read.reason})`);
        continue;
      }
      const owner = cardOwner.get(read.number);
      if (owner !== undefined && owner !== email) {
        problems.push(`line ${line}: card: the same card is also listed for another person`);
        continue;
      }
      cardOwner.set(read.number, email);
      card = { number: read.number, format, state: r.state ?? 'active' };
    }
    const doors = (r.doors ?? '').split(/[;\s|]+/).filter((d) => d !== '');
    const unknown = doors.filter((d) => !knownDoors.has(d));
    if (unknown.length > 0) problems.push(`line ${line}: doors: unknown door ${unknown.map((d) => `"${d}"`).join(', ')}`);
    const from = r.valid_from === undefined ? null : Date.parse(r.valid_from);
    const to = r.valid_to === undefined ? null : Date.parse(r.valid_to);
    if (from !== null && to !== null && to <= from) problems.push(`line ${line}: valid_to must be after valid_from`);
    if (doors.length === 0 && (from !== null || to !== null)) problems.push(`line ${line}: valid_from/valid_to need doors`);
    rows.push({ line, email, name: r.name ?? null, card, doors, from, to });
  }
  if (records.length === 0) problems.push('the file has no rows');
  if (problems.length > 0) throw new CardImportError(problems);
  return rows;
}

export function importCards(store: Store, text: string, now: number): ImportSummary {
  const knownDoors = new Set((store.db.prepare('SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
  const rows = parseCardCsv(text, knownDoors);
  return store.transact((tx) => {
    const staff = new Map<number, GrantInput[]>();
    const ids = new Map<string, number>();
    let cards = 0;
    for (const row of rows) {
      const personId = upsertPerson(tx, row.email, row.name, now);
      ids.set(row.email, personId);
      if (row.card) {
        try {
          assignCredential(tx, personId, row.card.number, row.card.format, row.card.state, now);
        } catch (err) {
          throw new CardImportError([`line ${row.line}: card: ${(err as Error).message}`]);
        }
        cards++;
      }
      const list = staff.get(personId) ?? [];
      for (const doorId of row.doors) list.push({ personId, doorId, validFrom: row.from, validTo: row.to });
      staff.set(personId, list);
    }
    let staffGrants = 0;
    for (const [email, personId] of ids) {
      const grants = staff.get(personId) ?? [];
      replaceSourceGrants(tx, 'staff', `import:${email}`, grants);
      staffGrants += grants.length;
    }
    return { people: ids.size, cards, staffGrants };
  });
}
