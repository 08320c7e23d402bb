import { z } from '@hono/zod-openapi';
import { normalizeImportedCard } from '../../readers/card-formats.js';
import type { BulkRecord, LineError } from '../../store/people-bulk.js';
import { cardInput, CardPut, Email, PersonPut, personInput } from './schemas.js';

/*
 * The body of POST /api/v1/people:bulk: NDJSON (one record a line) or a JSON array, each record a
 * PersonPut with its email and cards. Parsed and validated line by line, so a refusal names every
 * bad line, not just the first; the valid ones come back with the line they were on.
 */

export const MAX_BULK_RECORDS = 100_000;

export const BulkCard = CardPut.extend({ number: z.string().min(1).max(64) }).strict();
export const BulkPerson = PersonPut.extend({ email: Email, cards: z.array(BulkCard).max(50).default([]) })
  .strict()
  .openapi('BulkPerson');

export interface ParsedBulk {
  records: BulkRecord[];
  lines: number[];
  errors: LineError[];
}

function items(text: string, ndjson: boolean, errors: LineError[]): [number, unknown][] {
  if (!ndjson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      errors.push({ line: 0, code: 'invalid_json', message: 'the body is not valid JSON' });
      return [];
    }
    if (!Array.isArray(parsed)) {
      errors.push({ line: 0, code: 'invalid_request', message: 'a JSON body must be an array of people' });
      return [];
    }
    return parsed.map((v, i) => [i + 1, v]);
  }
  const out: [number, unknown][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    try {
      out.push([i + 1, JSON.parse(line)]);
    } catch {
      errors.push({ line: i + 1, code: 'invalid_json', message: 'this line is not valid JSON' });
    }
  });
  return out;
}

export function parseBulk(text: string, ndjson: boolean): ParsedBulk {
  const errors: LineError[] = [];
  const all = items(text, ndjson, errors);
  if (all.length > MAX_BULK_RECORDS) {
    return { records: [], lines: [], errors: [{ line: MAX_BULK_RECORDS + 1, code: 'too_many_records', message: `at most ${MAX_BULK_RECORDS} people in one bulk` }] };
  }
  const records: BulkRecord[] = [];
  const lines: number[] = [];
  for (const [line, value] of all) {
    const r = BulkPerson.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      errors.push({ line, code: 'invalid_request', message: issue.message, ...(issue.path.length > 0 ? { field: issue.path.join('.') } : {}) });
      continue;
    }
    const b = r.data;
    const cards: BulkRecord['cards'] = [];
    b.cards.forEach((c, k) => {
      const read = normalizeImportedCard(c.number, c.format);
      if (!read.ok) errors.push({ line, code: 'invalid_card', field: `cards.${k}.number`, message: `not a valid ${c.format} card number (${read.reason})` });
      else cards.push({ number: read.number, ...cardInput(c) });
    });
    records.push({ email: b.email.toLowerCase(), ...personInput(b), cards });
    lines.push(line);
  }
  return { records, lines, errors };
}
