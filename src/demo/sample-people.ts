import { parse } from 'csv-parse/sync';
import { CARD_FORMATS, type CardFormat } from '../config/schema.js';
import { normalizeImportedCard } from '../readers/card-formats.js';

/**
 * The demo's people, as lines to print: read from the same sample list the demo imports
 * (examples/cards.csv), so what the terminal says to type is what the database holds. Each
 * card is shown as the number to type at the demo's decimal console reader: a Wiegand
 * facility:card pair (12:3456) is the number its reader would send (789888). These are sample
 * cards, printed on the demo's own terminal; nothing here goes to a log.
 */
export function samplePeopleLines(csv: string): string[] {
  const rows = parse(csv, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string | undefined>[];
  const lines = rows.map((r) => {
    const format = (CARD_FORMATS as readonly string[]).includes(r.format ?? '') ? (r.format as CardFormat) : 'decimal';
    const read = r.card ? normalizeImportedCard(r.card, format) : null;
    const type = read?.ok ? read.number : '-';
    const doors = (r.doors ?? '').split(';').filter((d) => d !== '');
    const notes: string[] = [];
    if (r.state && r.state !== 'active') notes.push(`card ${r.state}`);
    else notes.push(doors.length > 0 ? `opens ${doors.join(' + ')}` : 'no standing access: try /book');
    if (r.valid_to) notes.push(`until ${r.valid_to.slice(0, 10)}`);
    if (format !== 'decimal' && r.card) notes.push(`a ${format} card, ${r.card}`);
    return `  ${type.padEnd(8)} ${(r.name ?? r.email ?? '').padEnd(14)} ${notes.join(', ')}`;
  });
  return [...lines, `  ${'9999'.padEnd(8)} ${'(nobody)'.padEnd(14)} an unknown card`];
}
