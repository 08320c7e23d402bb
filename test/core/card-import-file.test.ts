import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import { CardImportError, IMPORT_BATCH, importCardFile, importCards } from '../../src/store/card-import.js';
import type { Store } from '../../src/store/store.js';
import { testStore } from '../helpers/store.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The streaming import (`lintel cards import FILE`) on real files larger than one write batch:
 * it must mean what the row-by-row import meant, and a rejected file must write nothing.
 */

const NOW = Date.parse('2026-11-22T10:00:00Z');
const ROWS = IMPORT_BATCH * 2 + 500;

function dump(store: Store): string {
  return JSON.stringify(['people', 'credentials', 'grants', 'change_log'].map((t) => store.db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()));
}

describe('cards import from a file', () => {
  let store: Store;
  let index: AccessIndex;
  let close: () => void;
  let dir: string;
  let cleanup: () => void;
  const file = (name: string, lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };

  beforeEach(() => {
    ({ store, index, close } = testStore(['front', 'lab']));
    ({ dir, cleanup } = tempDir('lintel-import-'));
  });
  afterEach(() => {
    close();
    cleanup();
  });

  it('imports more rows than one batch; a person named in two batches gets the grants of both rows, and a re-import replaces them', async () => {
    const rows = Array.from({ length: ROWS }, (_, i) => `p${i}@example.com,P ${i},${100_000 + i},decimal,front`);
    // The same person again at the end, in another batch: a second card and a second door; and a name.
    rows.push('P0@Example.com,Pat Zero,999999,decimal,lab');
    const summary = await importCardFile(store, file('a.csv', ['email,name,card,format,doors', ...rows]), NOW);
    expect(summary).toEqual({ people: ROWS, cards: ROWS + 1, staffGrants: ROWS + 1 });
    expect(decideCard(index, '100000', 'lab', NOW).result).toBe('granted');
    expect(decideCard(index, '999999', 'front', NOW).result).toBe('granted');
    expect(decideCard(index, String(100_000 + ROWS - 1), 'front', NOW).result).toBe('granted');
    const p0 = store.db.prepare("SELECT name FROM people WHERE email = 'p0@example.com'").get() as { name: string };
    expect(p0.name).toBe('Pat Zero'); // the last name given wins, as when rows were applied one by one
    const log = store.db.prepare('SELECT count(*) AS n FROM change_log').get() as { n: number };
    expect(log.n).toBeGreaterThan(3 * ROWS); // every person, card and grant is logged for a running gateway

    // Re-import: p0 is now only at lab, with one row; the others keep what they had.
    await importCardFile(store, file('b.csv', ['email,doors', 'p0@example.com,lab']), NOW);
    expect(decideCard(index, '100000', 'front', NOW).reason).toBe('no_grant');
    expect(decideCard(index, '100000', 'lab', NOW).result).toBe('granted');
    expect(decideCard(index, '100001', 'front', NOW).result).toBe('granted');
  });

  it('gives the same database as the in-memory import of the same text', async () => {
    const text = ['email,name,card,format,state,doors,valid_from,valid_to', 'a@e.com,A,5,decimal,,front;lab,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z', 'b@e.com,,6,decimal,lost,,,', 'a@e.com,,7,decimal,,lab,,'];
    await importCardFile(store, file('c.csv', text), NOW);
    const viaFile = dump(store);
    close();
    ({ store, index, close } = testStore(['front', 'lab']));
    importCards(store, text.join('\n'), NOW);
    expect(dump(store)).toBe(viaFile);
  });

  it('a bad row late in a large file rejects it whole: nothing written, the line named', async () => {
    await importCardFile(store, file('base.csv', ['email,card,doors', 'ana@example.com,1,front']), NOW);
    const before = dump(store);
    const rows = Array.from({ length: ROWS }, (_, i) => `p${i}@example.com,${100_000 + i},front`);
    rows.push('late@example.com,1:99999999,front'); // not a decimal card
    rows.push('other@example.com,1,front'); // Ana's card, for someone else: caught before any write
    const err = await importCardFile(store, file('bad.csv', ['email,card,doors', ...rows]), NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardImportError);
    expect((err as CardImportError).problems).toEqual([`line ${ROWS + 2}: card: not a valid decimal card number (malformed_read)`]);
    expect(dump(store)).toBe(before);

    const stolen = await importCardFile(store, file('stolen.csv', ['email,card,doors', ...rows.slice(0, ROWS), 'other@example.com,1,front']), NOW).catch((e: unknown) => e);
    expect((stolen as CardImportError).problems).toEqual([`line ${ROWS + 2}: card: card number already belongs to another person`]);
    expect(dump(store)).toBe(before);
    expect(decideCard(index, '100000', 'front', NOW).reason).toBe('unknown_credential');
  });

  it('a malformed CSV is a CSV problem, a missing file is not', async () => {
    await expect(importCardFile(store, file('q.csv', ['email,card', '"unterminated,5']), NOW)).rejects.toThrow(/CSV/);
    await expect(importCardFile(store, join(dir, 'missing.csv'), NOW)).rejects.toThrow(/ENOENT/);
  });
});
