import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

/*
 * `lintel cards import` runs in a heap-bounded worker (src/cli/cards-import.ts). Loaded from
 * dist/, as the CLI runs it: the worker is a built file. A bound the file does not fit in ends
 * that attempt before any commit, and the import runs again without it.
 */

type Run = (config: string, file: string, heapMb?: number) => Promise<{ people: number; cards: number; staffGrants: number }>;
const { runCardsImport } = (await import(join(import.meta.dirname, '../../dist/src/cli/cards-import.js'))) as { runCardsImport: Run };
const { CardImportError } = (await import(join(import.meta.dirname, '../../dist/src/store/card-import.js'))) as { CardImportError: new (p: string[]) => Error };

describe('cards import in its worker', () => {
  let dir: string;
  let cleanup: () => void;
  let config: string;
  const rows = (from: number, n: number) => ['email,card,doors', ...Array.from({ length: n }, (_, i) => `w${from + i}@example.com,${500_000 + from + i},front`)].join('\n');
  const count = () => {
    const db = new Database(join(dir, 'data', 'lintel.db'), { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM credentials').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  beforeAll(() => {
    ({ dir, cleanup } = tempDir('lintel-import-worker-'));
    config = join(dir, 'lintel.yaml');
    writeFileSync(config, ['site: { id: w }', `dataDir: ${join(dir, 'data')}`, 'doors:', '  - { id: front }', ''].join('\n'));
  });
  afterAll(() => cleanup());

  it('imports through the worker, and a rejected file comes back as the same CardImportError', async () => {
    const file = join(dir, 'a.csv');
    writeFileSync(file, rows(0, 3000));
    expect(await runCardsImport(config, file)).toEqual({ people: 3000, cards: 3000, staffGrants: 3000 });
    writeFileSync(file, 'email,card,doors\nnot-an-email,1,front\n');
    const err = await runCardsImport(config, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardImportError);
    expect((err as Error).message).toMatch(/line 2: email/);
    expect(count()).toBe(3000);
  });

  it('a file rejected after batches were written (a stolen card on its last line) leaves nothing of it', async () => {
    const before = count();
    const file = join(dir, 'c.csv');
    // Three batches of the parsing thread, the writer applying them, then w0's card for someone else.
    writeFileSync(file, `${rows(200_000, 25_000)}\nthief@example.com,500000,front\n`);
    const err = await runCardsImport(config, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardImportError);
    expect((err as Error & { problems: string[] }).problems).toEqual(['line 25002: card: card number already belongs to another person']);
    expect(count()).toBe(before);
  });

  it('a heap bound the rows do not fit in: nothing half-written, the import runs again unbounded and completes', async () => {
    const file = join(dir, 'b.csv');
    writeFileSync(file, rows(10_000, 60_000));
    const note = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await runCardsImport(config, file, 12)).toEqual({ people: 60_000, cards: 60_000, staffGrants: 60_000 });
      expect(note.mock.calls.some(([m]) => String(m).includes('needed more than 12 MB'))).toBe(true);
    } finally {
      note.mockRestore();
    }
    expect(count()).toBe(63_000);
  }, 60_000); // a worker near its bound collects for a long while before it gives up, more so on a loaded box
});
