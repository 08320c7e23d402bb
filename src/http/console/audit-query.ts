import { z } from 'zod';
import { decodeAuditCursor, type AuditCursor, type AuditFilter } from '../../store/audit-search.js';
import { firstInstantAtOrAfter } from '../../util/zoned-time.js';

/*
 * The audit view's query string, checked at the boundary. Times come from the form's
 * datetime-local inputs: a wall-clock reading in the site's zone (the only zone the console
 * shows), turned into an instant here. Empty fields are absent filters, not empty strings.
 */

const blankToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const text = (max: number) => z.preprocess(blankToUndefined, z.string().trim().max(max).optional());
const localTime = z.preprocess(blankToUndefined, z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, 'a date and time (YYYY-MM-DDTHH:MM)').optional());

export const AuditQuerySchema = z.strictObject({
  email: z.preprocess(blankToUndefined, z.email().max(254).optional()),
  door: text(64),
  reader: text(64),
  result: z.preprocess(blankToUndefined, z.enum(['granted', 'denied']).optional()),
  reason: text(64),
  from: localTime,
  to: localTime,
  after: text(64),
});

export type AuditQuery = z.infer<typeof AuditQuerySchema>;

export interface ParsedAuditQuery {
  /** The form's values as typed, to fill the form again. */
  query: AuditQuery;
  filter: AuditFilter;
  after: AuditCursor | null;
}

/** The instant a `YYYY-MM-DDTHH:MM[:SS]` reading in `timeZone` names (the first, on a fall-back night). */
export function instantOfLocal(reading: string, timeZone: string): number {
  const [date, time] = reading.split('T') as [string, string];
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm, ss = 0] = time.split(':').map(Number) as [number, number, number?];
  return firstInstantAtOrAfter(Date.UTC(y, m - 1, d, hh, mm, ss), timeZone);
}

export function parseAuditQuery(raw: Record<string, string>, timeZone: string): { ok: true; value: ParsedAuditQuery } | { ok: false; error: string } {
  const parsed = AuditQuerySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') };
  const q = parsed.data;
  const after = q.after === undefined ? null : decodeAuditCursor(q.after);
  if (q.after !== undefined && after === null) return { ok: false, error: 'after: not a page cursor of this view' };
  const filter: AuditFilter = {};
  if (q.email !== undefined) filter.email = q.email;
  if (q.door !== undefined) filter.door = q.door;
  if (q.reader !== undefined) filter.reader = q.reader;
  if (q.result !== undefined) filter.result = q.result;
  if (q.reason !== undefined) filter.reason = q.reason;
  if (q.from !== undefined) filter.from = instantOfLocal(q.from, timeZone);
  if (q.to !== undefined) filter.to = instantOfLocal(q.to, timeZone);
  if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) return { ok: false, error: 'to: must be after from' };
  return { ok: true, value: { query: q, filter, after } };
}
