import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subjectHasher } from '../../src/qr/member-subject.js';
import { streamCardFile, type CardStreamMessage } from '../../src/store/card-batches.js';
import { CardImportError, importCards, knownDoors, type ImportSummary } from '../../src/store/card-import.js';
import { CardRows } from '../../src/store/card-rows.js';
import { applyCardStream } from '../../src/store/card-stream.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { Store } from '../../src/store/store.js';
import type { SubjectHasher } from '../../src/store/subject-columns.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The streamed import (`lintel cards import`: one thread parses, the other writes each batch as
 * it comes, store/card-stream.ts) must leave exactly the database the two-step import leaves,
 * and reject exactly what it rejects, with the same words. Batches of two records here, so that
 * a person, a card and a rename fall across batches. The threads themselves are in
 * test/e2e/cards-import-worker.test.ts.
 */

const NOW = Date.parse('2026-12-04T10:00:00Z');
const GROUPS = new Set(['staff', 'cleaners']);
const BASE = ['email,name,card,format,state,doors,groups', 'ana@e.com,Ana,1,decimal,active,front,staff', 'bob@e.com,Bob,2,decimal,active,lab,', 'cy@e.com,Cy,3,decimal,disabled,front,cleaners'];

/** Everything an import writes, without the row ids that depend on the order of the inserts. */
function dump(store: Store): unknown {
  const q = (sql: string) => store.db.prepare(sql).all();
  return {
    people: q('SELECT * FROM people ORDER BY id'),
    cards: q('SELECT person_id, number, format, state, created_at, updated_at FROM credentials ORDER BY number'),
    grants: q('SELECT person_id, door_id, valid_from, valid_to, source, source_id FROM grants ORDER BY person_id, door_id, source_id, valid_from'),
    groups: q('SELECT person_id, group_id, valid_from, valid_to, source, source_id FROM person_groups ORDER BY person_id, group_id, source, source_id'),
    logged: q('SELECT DISTINCT person_id FROM change_log WHERE person_id IS NOT NULL ORDER BY 1'),
  };
}

/** What the parsing thread would send, applied as the writing thread applies it. */
async function streamed(store: Store, path: string, hasher?: SubjectHasher): Promise<ImportSummary> {
  const messages: CardStreamMessage[] = [];
  await streamCardFile(path, new CardRows(knownDoors(store), GROUPS), 2, hasher?.of, (m) => messages.push(m) > 0);
  let next = 0;
  return applyCardStream(store, () => messages[next++]!, NOW);
}

describe('cards import, streamed between two threads', () => {
  let dir: string;
  let cleanup: () => void;
  let stores: Store[];
  const file = (lines: string[]) => {
    const path = join(dir, `f${stores.length}-${Math.random()}.csv`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };
  const store = (hasher?: SubjectHasher) => {
    const s = new Store(openDatabase(join(dir, `db${stores.length}.db`)), hasher);
    s.transact((tx) => syncDoorsAndResources(tx, ['front', 'lab'].map((id) => ({ id, name: id })), new Map()));
    stores.push(s);
    return s;
  };
  /** Two stores with the same base list, one for each import. */
  const pair = (hasher?: SubjectHasher) => {
    const [a, b] = [store(hasher), store(hasher)];
    for (const s of [a, b]) importCards(s, BASE.join('\n'), NOW - 60_000, { knownGroups: GROUPS });
    return [a, b] as const;
  };

  beforeEach(() => {
    ({ dir, cleanup } = tempDir('lintel-import-stream-'));
    stores = [];
  });
  afterEach(() => {
    for (const s of stores) s.close();
    cleanup();
  });

  it('leaves the database the two-step import leaves: renames, re-listed cards, voided tokens, replaced grants and groups', async () => {
    const lines = [
      'email,name,card,format,state,doors,groups,valid_from,valid_to',
      'new1@e.com,N1,10,decimal,,front,staff,,',
      'Ana@E.com,Ana B,1,decimal,active,lab,,,', // stored: renamed, her door and group replaced
      'bob@e.com,,2,decimal,active,front;lab,,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z',
      'new1@e.com,,11,decimal,,lab,cleaners,,', // a person of an earlier batch: a second card, more grants
      'new2@e.com,N2,04:A2:2B:1C,hex-msb,,,,,',
      'bob@e.com,,2,decimal,lost,,,,', // stored active, lost in the end: his tokens go
      'new1@e.com,New One,10,decimal,disabled,,,,', // renamed and re-listed after both were sent
      'cy@e.com,,3,decimal,active,,,,', // disabled → active voids nothing
      'cy@e.com,Cy,,,,,,,', // her stored name, in a later batch: not rewritten
    ];
    const path = file(lines);
    const [a, b] = pair();
    const expected = importCards(a, lines.join('\n'), NOW, { knownGroups: GROUPS });
    expect(await streamed(b, path)).toEqual(expected);
    expect(dump(b)).toEqual(dump(a));
    const bob = b.db.prepare("SELECT tokens_valid_after FROM people WHERE email = 'bob@e.com'").pluck().get() as number;
    expect(bob).toBeGreaterThan(0);
  });

  it('stores the subjects the parsing thread computed, with the key id of the writer', async () => {
    const hasher = subjectHasher(randomBytes(32));
    const lines = ['email,card', 'p1@e.com,21', 'p2@e.com,22', 'P3@E.com,23'];
    const [a, b] = pair(hasher);
    importCards(a, lines.join('\n'), NOW);
    await streamed(b, file(lines), hasher);
    expect(dump(b)).toEqual(dump(a));
    const p3 = b.db.prepare("SELECT subject_hi, subject_lo, subject_key FROM people WHERE email = 'p3@e.com'").raw().get();
    expect(p3).toEqual([hasher.of('p3@e.com').hi, hasher.of('p3@e.com').lo, hasher.keyId]);
  });

  it('rejects what the two-step import rejects, with the same problems, and writes nothing', async () => {
    const files = [
      // A bad row after batches were written, and a stolen card: the row problems are what is reported.
      ['email,card,doors', 'x1@e.com,31,front', 'x2@e.com,32,front', 'x3@e.com,33,front', 'late@e.com,1:99999999,front', 'thief@e.com,1,front'],
      // Stolen cards in two batches, after writes: every one reported.
      ['email,card,doors', 'x1@e.com,31,front', 'x2@e.com,32,front', 'thief@e.com,1,front', 'x4@e.com,34,front', 'thief2@e.com,2,lab'],
      ['email,card,doors'],
      ['email,card', '"unterminated,5'],
      ['email,card,doors', 'ok@e.com,41,front', 'ok@e.com,41,nowhere', 'other@e.com,41,front'],
    ];
    for (const lines of files) {
      const [a, b] = pair();
      const before = dump(b);
      const expected = (() => {
        try {
          importCards(a, lines.join('\n'), NOW, { knownGroups: GROUPS });
        } catch (err) {
          return (err as CardImportError).problems;
        }
      })();
      expect(expected).toBeDefined();
      const err = await streamed(b, file(lines)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CardImportError);
      expect((err as CardImportError).problems).toEqual(expected);
      expect(dump(b)).toEqual(before);
    }
  });

  it('a file that cannot be read fails with its read error, not as a CSV problem', async () => {
    const [s] = pair();
    await expect(streamed(s, join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
