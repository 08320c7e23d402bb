import { prepareCached } from './db.js';
import type { DbHolder } from './store.js';

/*
 * The console's audit view (/audit and /audit.csv): read-only queries over the decision log.
 * Every query is LIMITed and walks the audit_at index newest first; the next page is a keyset
 * cursor (at, id) rather than an OFFSET, so page 500 costs what page 1 costs. A person is
 * named by email and name (a join on people); the local ids of the row and the person are
 * used for paging and the join only and never returned.
 */

export interface AuditFilter {
  /** A person's email (compared lower-cased, as stored). */
  email?: string;
  door?: string;
  reader?: string;
  result?: 'granted' | 'denied';
  reason?: string;
  /** Half-open [from, to) in ms. */
  from?: number;
  to?: number;
}

/** Where the previous page ended; opaque to the page (encoded by encodeAuditCursor). */
export interface AuditCursor {
  at: number;
  id: number;
}

export interface AuditSearchRow {
  at: number;
  reader: string | null;
  door: string | null;
  /** Masked, as the audit table stores it. */
  credential: string | null;
  email: string | null;
  name: string | null;
  result: 'granted' | 'denied';
  reason: string;
  relay: string | null;
  count: number;
  source: string | null;
  event: string | null;
}

export interface AuditPage {
  rows: AuditSearchRow[];
  /** Null on the last page. */
  next: AuditCursor | null;
}

export const MAX_AUDIT_PAGE = 500;

/** One page of matching rows, newest first. */
export function searchAudit({ db }: DbHolder, filter: AuditFilter, limit: number, after: AuditCursor | null = null): AuditPage {
  const size = Math.max(1, Math.min(MAX_AUDIT_PAGE, Math.floor(limit)));
  const where: string[] = [];
  const args: Array<string | number> = [];
  // One SQL text per filter shape, so prepareCached keeps a handful of statements, not one per search.
  if (filter.email !== undefined) {
    where.push('a.person_id = (SELECT id FROM people WHERE email = ?)');
    args.push(filter.email.trim().toLowerCase());
  }
  const equal: Array<[string, string | number | undefined]> = [
    ['a.door_id = ?', filter.door],
    ['a.reader_id = ?', filter.reader],
    ['a.result = ?', filter.result],
    ['a.reason = ?', filter.reason],
    ['a.at >= ?', filter.from],
    ['a.at < ?', filter.to],
  ];
  for (const [clause, value] of equal) {
    if (value === undefined) continue;
    where.push(clause);
    args.push(value);
  }
  if (after) {
    where.push('(a.at < ? OR (a.at = ? AND a.id < ?))');
    args.push(after.at, after.at, after.id);
  }
  const sql = `SELECT a.id, a.at, a.reader_id AS reader, a.door_id AS door, a.credential, p.email, p.name, a.result, a.reason, a.relay, a.count, a.source, a.event
    FROM audit a INDEXED BY audit_at LEFT JOIN people p ON p.id = a.person_id
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY a.at DESC, a.id DESC LIMIT ?`;
  // One more than asked: whether a next page exists without a COUNT(*).
  const found = prepareCached(db, sql).all(...args, size + 1) as Array<AuditSearchRow & { id: number }>;
  const page = found.slice(0, size);
  const last = page[page.length - 1];
  const next = found.length > size && last ? { at: last.at, id: last.id } : null;
  return { rows: page.map(({ id: _id, ...row }) => row), next };
}

/** Every matching row, newest first, one LIMITed page at a time (the CSV export streams this). */
export function* allAuditMatches(holder: DbHolder, filter: AuditFilter, pageSize = MAX_AUDIT_PAGE): Generator<AuditSearchRow[]> {
  let after: AuditCursor | null = null;
  do {
    const page = searchAudit(holder, filter, pageSize, after);
    if (page.rows.length > 0) yield page.rows;
    after = page.next;
  } while (after);
}

/*
 * The cursor leaves the process in a link (?after=...): it carries the row id, which is a
 * position in the log, not an identity (it names no person or card). Base64url of "at.id".
 */
export function encodeAuditCursor(c: AuditCursor): string {
  return Buffer.from(`${c.at}.${c.id}`).toString('base64url');
}

export function decodeAuditCursor(text: string): AuditCursor | null {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(text, 'base64url').toString());
  if (!m) return null;
  return { at: Number(m[1]), id: Number(m[2]) };
}

/** People with no card at all: the operator's enrolment queue (learn mode assigns one). */
export function peoplePendingCard({ db }: DbHolder, limit: number): { count: number; people: Array<{ email: string; name: string | null }> } {
  const count = (prepareCached(db, 'SELECT COUNT(*) AS n FROM people p WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.person_id = p.id)').get() as { n: number }).n;
  const people = prepareCached(db, 'SELECT p.email, p.name FROM people p WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.person_id = p.id) ORDER BY p.email LIMIT ?').all(limit) as Array<{
    email: string;
    name: string | null;
  }>;
  return { count, people };
}

/** Email and name of local person ids, for the signed-in operator's page: the ids stay in the process. */
export function peopleByIds({ db }: DbHolder, ids: readonly number[]): Map<number, { email: string; name: string | null }> {
  const out = new Map<number, { email: string; name: string | null }>();
  const unique = [...new Set(ids)].slice(0, 200);
  if (unique.length === 0) return out;
  const rows = db.prepare(`SELECT id, email, name FROM people WHERE id IN (${unique.map(() => '?').join(',')})`).all(...unique) as Array<{ id: number; email: string; name: string | null }>;
  for (const r of rows) out.set(r.id, { email: r.email, name: r.name });
  return out;
}
