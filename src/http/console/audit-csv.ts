import type { AuditSearchRow } from '../../store/audit-search.js';
import { formatInZone } from '../../util/zoned-time.js';

/*
 * The audit export as CSV (RFC 4180): CRLF line ends, every field quoted when it holds a comma,
 * a quote, CR or LF, quotes doubled. Opened in a spreadsheet, a cell that begins with = + - or
 * @ is a formula (a reason or a name typed by someone else could be `=HYPERLINK(...)`), so such
 * a cell gets a leading apostrophe and is shown as the text it is. Credentials are the masked
 * form the audit table keeps; no row or person id is written.
 */

export const AUDIT_CSV_HEADER = ['time', 'reader', 'door', 'credential', 'email', 'name', 'result', 'reason', 'source', 'relay', 'count', 'event'] as const;

/** One cell, formula-safe and quoted as RFC 4180 asks. */
export function csvCell(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: ReadonlyArray<string | number | null>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export function auditCsvLine(r: AuditSearchRow, timeZone: string): string {
  return csvLine([formatInZone(r.at, timeZone), r.reader, r.door, r.credential, r.email, r.name, r.result, r.reason, r.source, r.relay, r.count, r.event]);
}
