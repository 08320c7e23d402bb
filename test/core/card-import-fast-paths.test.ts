import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subjectHasher } from '../../src/qr/member-subject.js';
import { CardImportError, IMPORT_BATCH, importCardFile, importCards } from '../../src/store/card-import.js';
import { plainRow, rowSchema } from '../../src/store/card-rows.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * What makes a million-row `cards import` cheap must not change what it means: rows the plain
 * checks take are exactly what the schema would have made of them, the streamed file names
 * the same lines as csv-parse's own per-record info, and subjects computed on the subject
 * thread are the ones the hasher computes. The subject thread is a built file: npm run build.
 */

const NOW = Date.parse('2026-12-03T10:00:00Z');

describe('plain row checks', () => {
  const value = fc.oneof(
    fc.constantFrom('', 'decimal', 'wiegand26', 'hex', 'active', 'lost', 'nope', '2026-12-01T00:00:00Z', 'a@b.co', 'A.B@x.example', 'a@b', '@b.co', 'x'.repeat(65), 'y'.repeat(201)),
    fc.string({ maxLength: 12 }),
  );
  const record = fc.dictionary(fc.constantFrom('email', 'name', 'card', 'format', 'state', 'doors', 'groups', 'valid_from', 'valid_to', 'extra'), value);

  it('accept only what the schema accepts, and give what it gives', () => {
    fc.assert(
      fc.property(record, (r) => {
        const plain = plainRow(r);
        if (plain === undefined) return;
        const cleaned = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== ''));
        expect(rowSchema.parse(cleaned)).toEqual(plain);
      }),
      { numRuns: 5000 },
    );
  });

  it('take the everyday row', () => {
    expect(plainRow({ email: 'staff1@bench.example', card: '10000001', format: 'decimal', doors: 'd01' })).toEqual({ email: 'staff1@bench.example', card: '10000001', format: 'decimal', doors: 'd01' });
  });
});

describe('the streamed file', () => {
  let dir: string;
  let cleanup: () => void;
  const stores: Store[] = [];
  const store = (subjects?: ReturnType<typeof subjectHasher>) => {
    const s = new Store(openDatabase(join(dir, `s${stores.length}.db`)), subjects);
    s.transact((tx) => syncDoorsAndResources(tx, [{ id: 'front', name: 'front' }], new Map()));
    stores.push(s);
    return s;
  };
  beforeEach(() => ({ dir, cleanup } = tempDir('lintel-import-fast-')));
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    cleanup();
  });

  it('names the lines csv-parse names: BOM, CRLF, blank lines, a quoted field over two lines', async () => {
    const text = '\ufeffEmail,Name,Card,Doors\r\na@e.com,A,1,front\r\n\r\nnot-an-email,B,2,front\r\nc@e.com,"C\r\nsecond line",3,vault\r\n\r\n\r\nd@e.com,D,1:2:3,front\r\ne@e.com,E,1,front\r\n';
    const path = join(dir, 'f.csv');
    writeFileSync(path, text);
    const viaText = (() => {
      try {
        importCards(store(), text, NOW);
      } catch (err) {
        return (err as CardImportError).problems;
      }
      return [];
    })();
    const viaFile = await importCardFile(store(), path, NOW).catch((err: unknown) => (err as CardImportError).problems);
    // csv-parse's numbering, as the text path has always reported it (the CRLF inside quotes counts twice).
    expect(viaText).toEqual([
      'line 4: email: Invalid email address',
      'line 7: doors: unknown door "vault"',
      'line 10: card: not a valid decimal card number (malformed_read)',
      'line 11: card: the same card is also listed for another person',
    ]);
    expect(viaFile).toEqual(viaText);
  });

  it('stores the subjects the subject thread computed, the same as the hasher computes', async () => {
    const hasher = subjectHasher(randomBytes(32));
    let onThisThread = 0;
    const s = store({ ...hasher, of: (email) => (onThisThread++, hasher.of(email)) });
    const n = IMPORT_BATCH * 2 + 7;
    const path = join(dir, 'many.csv');
    writeFileSync(path, ['email,card,doors', ...Array.from({ length: n }, (_, i) => `P${i}@Example.com,${1_000_000 + i},front`)].join('\n'));
    expect(await importCardFile(s, path, NOW)).toEqual({ people: n, cards: n, staffGrants: n });
    expect(onThisThread).toBe(0); // all on the subject thread: with it failed, they are computed here
    const rows = s.db.prepare('SELECT email, subject_hi, subject_lo, subject_key FROM people ORDER BY id').all() as { email: string; subject_hi: number; subject_lo: number; subject_key: number }[];
    expect(rows).toHaveLength(n);
    for (const r of [rows[0]!, rows[IMPORT_BATCH]!, rows[n - 1]!, ...rows.filter((_, i) => i % 997 === 0)]) {
      expect([r.subject_hi, r.subject_lo, r.subject_key]).toEqual([hasher.of(r.email).hi, hasher.of(r.email).lo, hasher.keyId]);
    }
    expect(rows.map((r) => r.email).slice(0, 2)).toEqual(['p0@example.com', 'p1@example.com']); // numbered in file order
  });
});
