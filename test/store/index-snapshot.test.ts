import { randomBytes } from 'node:crypto';
import { openSync, readFileSync, writeFileSync, writeSync, closeSync, existsSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import { subjectHasher } from '../../src/qr/member-subject.js';
import { importCards } from '../../src/store/card-import.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { pruneChangeLog, readChangeMark } from '../../src/store/change-log.js';
import { loadIndex, refreshPeople } from '../../src/store/index-loader.js';
import { readIndexSnapshot } from '../../src/store/index-snapshot.js';
import { saveIndexAtStop, startIndex } from '../../src/store/index-start.js';
import { Store } from '../../src/store/store.js';
import type { SubjectHasher } from '../../src/store/subject-columns.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The index snapshot of a clean stop (src/store/index-snapshot.ts) on real SQLite files: what
 * comes back equals a load from the tables; what changed after it is applied; a corrupt, stale,
 * foreign or other-key snapshot is refused and the index is loaded from the tables instead.
 */

const NOW = Date.parse('2026-12-02T10:00:00Z');
const DOORS = ['front', 'lab'];
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

interface Site {
  dir: string;
  db: string;
  snap: string;
  hasher: SubjectHasher;
}

function site(): Site {
  const t = tempDir('lintel-snap-');
  cleanup.push(t.cleanup);
  return { dir: t.dir, db: join(t.dir, 'lintel.db'), snap: join(t.dir, 'lintel.index'), hasher: subjectHasher(randomBytes(32)) };
}

function open(s: Site, hasher = s.hasher): Store {
  const store = new Store(openDatabase(s.db), hasher);
  cleanup.push(() => store.close());
  store.transact((tx) => syncDoorsAndResources(tx, DOORS.map((id) => ({ id, name: id })), new Map()));
  return store;
}

const newIndex = (hasher: SubjectHasher) => new AccessIndex({ subjectOf: hasher.of, subjectKeyId: hasher.keyId });

/** Many people, some with two cards, a disabled card, dated grants and a revoked token time. */
function fill(store: Store, from: number, count: number): void {
  const rows = ['email,name,card,format,state,doors,valid_from,valid_to'];
  for (let i = from; i < from + count; i++) {
    const dated = i % 7 === 0 ? ',2026-01-01T00:00:00Z,2027-01-01T00:00:00Z' : ',,';
    rows.push(`p${i}@example.com,P ${i},${10_000 + i},decimal,${i % 11 === 0 ? 'lost' : 'active'},${DOORS[i % 2]}${dated}`);
    if (i % 5 === 0) rows.push(`p${i}@example.com,,${900_000 + i},decimal,active,front;lab,,`);
  }
  importCards(store, rows.join('\n'), NOW);
}

/** What decisions see: every card at every door at three instants, and every person's subject. */
function view(index: AccessIndex, store: Store, hasher: SubjectHasher): unknown {
  const cards = store.db.prepare('SELECT number FROM credentials ORDER BY number').pluck().all() as string[];
  const emails = store.db.prepare('SELECT id, email FROM people ORDER BY id').raw().all() as [number, string][];
  const at = [NOW, Date.parse('2025-06-01T00:00:00Z'), Date.parse('2027-06-01T00:00:00Z')];
  return {
    stats: index.stats(),
    cards: cards.map((c) => DOORS.flatMap((d) => at.map((t) => decideCard(index, c, d, t).reason))),
    people: emails.map(([id, email]) => {
      const r = index.subjectRecord(hasher.of(email));
      return [index.person(id), r < 0 ? -1 : index.recordPersonId(r)];
    }),
  };
}

/** A gateway's life in brief: start (snapshot or tables), then a clean stop that writes the snapshot. */
async function start(s: Site, store: Store, hasher = s.hasher) {
  const index = newIndex(hasher);
  const started = await startIndex(store.db, index, s.snap, silentLogger);
  return { index, started, stop: () => saveIndexAtStop(store, index, readChangeMark(store.db).seq, s.snap, NOW, silentLogger) };
}

function rebuilt(store: Store, hasher: SubjectHasher): AccessIndex {
  const index = newIndex(hasher);
  loadIndex(store.db, index);
  return index;
}

describe('index snapshot', () => {
  it('round trip: the restored index decides exactly as one loaded from the tables', async () => {
    const s = site();
    const store = open(s);
    fill(store, 0, 3000);
    store.db.prepare('UPDATE people SET tokens_valid_after = ? WHERE id % 13 = 0').run(NOW - 5000);
    const first = await start(s, store);
    expect(first.started.source).toBe('tables');
    // While it runs, a record outgrows its block: the pool's free lists get a list at one size
    // only (sparse), which the snapshot must carry as it is.
    const rows = ['email,doors,valid_from,valid_to'];
    for (let d = 0; d < 7; d++) rows.push(`p1@example.com,front,2026-0${d + 1}-01T00:00:00Z,2026-0${d + 1}-02T00:00:00Z`);
    store.onCommit((c) => refreshPeople(store.db, first.index, c.people));
    importCards(store, rows.join('\n'), NOW);
    importCards(store, 'email,doors\np1@example.com,lab', NOW);
    first.stop();
    expect(existsSync(s.snap)).toBe(true);
    const second = await start(s, store);
    expect(second.started.source).toBe('snapshot');
    expect(view(second.index, store, s.hasher)).toEqual(view(rebuilt(store, s.hasher), store, s.hasher));
    expect(second.index.tokensValidAfter(13)).toBe(NOW - 5000);
  });

  it('changes committed after the snapshot (another process, while the gateway was down) are applied at start', async () => {
    const s = site();
    const store = open(s);
    fill(store, 0, 2000);
    (await start(s, store)).stop();
    // While stopped: new people, a card taken away, grants replaced, a person deleted.
    fill(store, 2000, 300);
    importCards(store, 'email,card,state,doors\np1@example.com,10001,disabled,lab', NOW);
    store.db.prepare("DELETE FROM people WHERE email = 'p2@example.com'").run();
    const again = await start(s, store);
    expect(again.started.source).toBe('snapshot');
    expect(view(again.index, store, s.hasher)).toEqual(view(rebuilt(store, s.hasher), store, s.hasher));
    expect(decideCard(again.index, '10001', 'lab', NOW).reason).toBe('credential_disabled');
    expect(decideCard(again.index, '10002', 'front', NOW).reason).toBe('unknown_credential');
    expect(decideCard(again.index, '12298', 'front', NOW).result).toBe('granted');
  });

  it('a corrupt snapshot (one flipped byte) is refused and removed; the index comes from the tables', async () => {
    const s = site();
    const store = open(s);
    fill(store, 0, 1000);
    (await start(s, store)).stop();
    const bytes = readFileSync(s.snap);
    const fd = openSync(s.snap, 'r+');
    writeSync(fd, Buffer.from([bytes[bytes.length - 100]! ^ 0xff]), 0, 1, bytes.length - 100);
    closeSync(fd);
    const again = await start(s, store);
    expect(again.started.source).toBe('tables');
    expect(existsSync(s.snap)).toBe(false);
    expect(view(again.index, store, s.hasher)).toEqual(view(rebuilt(store, s.hasher), store, s.hasher));
    writeFileSync(s.snap, 'not a snapshot at all');
    expect((await start(s, store)).started.source).toBe('tables');
  });

  it('a snapshot of an earlier record layout (version 2) is refused; the index comes from the tables', async () => {
    const s = site();
    const store = open(s);
    fill(store, 0, 300);
    (await start(s, store)).stop();
    const bytes = readFileSync(s.snap);
    const at = bytes.indexOf('"version":3');
    expect(at).toBeGreaterThan(0);
    bytes.write('"version":2', at); // same length: only the version differs
    writeFileSync(s.snap, bytes);
    expect(readIndexSnapshot(store.db, newIndex(s.hasher), s.snap)).toEqual({ ok: false, reason: 'snapshot version 2' });
    const again = await start(s, store);
    expect(again.started.source).toBe('tables');
    expect(view(again.index, store, s.hasher)).toEqual(view(rebuilt(store, s.hasher), store, s.hasher));
  });

  it('stale: a pruned change log, a database restored from before the snapshot, another key', async () => {
    const s = site();
    let store = open(s);
    fill(store, 0, 500);
    copyFileSync(s.db, join(s.dir, 'backup.db')); // the WAL is checkpointed by nothing yet: copy after a checkpoint
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(s.db, join(s.dir, 'backup.db'));
    (await start(s, store)).stop();
    const snapshot = readFileSync(s.snap);

    // Pruned: entries after the snapshot were applied by some gateway and pruned, then it crashed.
    fill(store, 500, 10);
    pruneChangeLog(store.db, readChangeMark(store.db).seq);
    let again = await start(s, store);
    expect(again.started.source).toBe('tables');
    expect(view(again.index, store, s.hasher)).toEqual(view(rebuilt(store, s.hasher), store, s.hasher));

    // Another key: the snapshot's subjects would name the wrong people.
    writeFileSync(s.snap, snapshot);
    const other = subjectHasher(randomBytes(32));
    expect((await start(s, store, other)).started.source).toBe('tables');

    // Restored from a backup taken before the snapshot, then changed past its seq by imports: the
    // backup names no snapshot, so the file is not trusted even though the log looks complete.
    store.close();
    copyFileSync(join(s.dir, 'backup.db'), s.db);
    store = open(s);
    fill(store, 600, 400);
    writeFileSync(s.snap, snapshot);
    again = await start(s, store);
    expect(again.started.source).toBe('tables');
    expect(view(again.index, store, s.hasher)).toEqual(view(rebuilt(store, s.hasher), store, s.hasher));
  });
});
