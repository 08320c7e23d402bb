import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { subjectHasher } from '../../src/qr/member-subject.js';
import { importCards } from '../../src/store/card-import.js';
import { readChangeMark } from '../../src/store/change-log.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { loadIndexOnWorker } from '../../src/store/index-load-pages.js';
import { LOAD_BATCH, loadIndex } from '../../src/store/index-loader.js';
import { startIndex } from '../../src/store/index-start.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';
import { expectIndexMatchesRebuild } from '../support/index-matches-rebuild.js';

/*
 * The first start's load on a worker thread (src/store/index-load-pages.ts, built into dist/:
 * run `npm run build` first) on a real SQLite file: the index it fills equals loadIndex's over
 * several pages, with the values the typed arrays cannot carry (a REAL bound, a subject of
 * another key, card numbers that are no canonical decimal) read by rows, and the seq it reports
 * is the change log's in its read transaction.
 */

const NOW = Date.parse('2026-12-02T10:00:00Z');
const DOORS = ['front', 'lab'];
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

function site() {
  const t = tempDir('lintel-load-worker-');
  cleanup.push(t.cleanup);
  const hasher = subjectHasher(randomBytes(32));
  const file = join(t.dir, 'lintel.db');
  const store = new Store(openDatabase(file), hasher);
  cleanup.push(() => store.close());
  store.transact((tx) => syncDoorsAndResources(tx, DOORS.map((id) => ({ id, name: id })), new Map()));
  const newIndex = () => new AccessIndex({ subjectOf: hasher.of, subjectKeyId: hasher.keyId });
  return { file, store, hasher, newIndex };
}

/** Two pages and a bit of people: two cards for some, lost and dated ones, grants at either door. */
function fill(store: Store, count: number): void {
  const rows = ['email,name,card,format,state,doors,valid_from,valid_to'];
  for (let i = 0; i < count; i++) {
    const dated = i % 7 === 0 ? ',2026-01-01T00:00:00Z,2027-01-01T00:00:00Z' : ',,';
    rows.push(`p${i}@example.com,P ${i},${10_000 + i},decimal,${i % 11 === 0 ? 'lost' : 'active'},${DOORS[i % 2]}${dated}`);
    if (i % 5 === 0) rows.push(`p${i}@example.com,,${900_000 + i},decimal,active,front;lab,,`);
  }
  importCards(store, rows.join('\n'), NOW);
}

/** Which record each person's subject names, as member tokens see it. */
function subjects(index: AccessIndex, store: Store, hasher: ReturnType<typeof subjectHasher>): number[] {
  const emails = store.db.prepare('SELECT email FROM people ORDER BY id').pluck().all() as string[];
  return emails.map((email) => {
    const r = index.subjectRecord(hasher.of(email));
    return r < 0 ? -1 : index.recordPersonId(r);
  });
}

describe('the index loaded on a worker thread', () => {
  it('equals loadIndex over several pages, odd values included, and reports the seq of its snapshot', async () => {
    const s = site();
    fill(s.store, 2 * LOAD_BATCH + 300);
    const db = s.store.db;
    // Written as another writer could: a subject of another key, none at all, a REAL bound,
    // card numbers no 64-bit key holds (leading zero, 20 digits above 2^64, letters), a suspended person.
    db.prepare('UPDATE people SET subject_key = subject_key + 1 WHERE id % 9 = 0').run();
    db.prepare('UPDATE people SET subject_hi = NULL, subject_lo = NULL WHERE id % 13 = 0').run();
    db.prepare("UPDATE people SET state = 'suspended' WHERE id % 17 = 0").run();
    db.prepare('UPDATE grants SET valid_from = 1.5 WHERE person_id = 42').run();
    db.prepare("UPDATE people SET tokens_valid_after = ? WHERE id % 19 = 0").run(NOW - 1000);
    const person = (n: number) => db.prepare('SELECT id FROM people ORDER BY id LIMIT 1 OFFSET ?').pluck().get(n) as number;
    const insertCard = db.prepare("INSERT INTO credentials (person_id, number, format, state, created_at, updated_at, valid_from) VALUES (?, ?, 'raw', ?, ?, ?, ?)");
    insertCard.run(person(3), '0042', 'active', NOW, NOW, null);
    insertCard.run(person(LOAD_BATCH), '99999999999999999999', 'active', NOW, NOW, NOW + 1000);
    insertCard.run(person(LOAD_BATCH + 1), 'AB-17', 'disabled', NOW, NOW, null);
    insertCard.run(person(2 * LOAD_BATCH), '18446744073709551615', 'lost', NOW, NOW, null);

    const index = s.newIndex();
    const { seq } = await loadIndexOnWorker(s.file, db, index);
    expect(seq).toBe(readChangeMark(db).seq);
    expectIndexMatchesRebuild(s.store, index, { newIndex: s.newIndex, instants: [NOW, NOW + 1000] });
    const rebuilt = s.newIndex();
    loadIndex(db, rebuilt);
    expect(subjects(index, s.store, s.hasher)).toEqual(subjects(rebuilt, s.store, s.hasher));
    expect(index.stats()).toEqual(rebuilt.stats());
  });

  it('is how a start without a snapshot fills the index', async () => {
    const s = site();
    fill(s.store, 50);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const index = s.newIndex();
    const started = await startIndex(s.store.db, index, join(s.file, '..', 'lintel.index'), logger);
    expect(started.source).toBe('tables');
    expect(started.mark.seq).toBe(readChangeMark(s.store.db).seq);
    expect(lines.some((l) => l.includes('"worker":true'))).toBe(true);
    expectIndexMatchesRebuild(s.store, index, { newIndex: s.newIndex });
  });
});
