import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { subjectHasher } from '../../src/qr/member-subject.js';
import { openDatabase } from '../../src/store/db.js';
import { loadIndex, refreshPeople } from '../../src/store/index-loader.js';
import { upsertPerson } from '../../src/store/people.js';
import { Store } from '../../src/store/store.js';
import type { SubjectHasher } from '../../src/store/subject-columns.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Migration 8: people are written with their member-token subject and the key id it was made
 * with, and the index loader takes a stored subject only when that id is the index's key.
 */

const T0 = Date.parse('2026-12-02T10:00:00Z');
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

function storeIn(dir: string, subjects?: SubjectHasher): Store {
  const store = new Store(openDatabase(join(dir, 'lintel.db')), subjects);
  cleanup.push(() => store.close());
  return store;
}

/** An index of `hasher`'s key that records every email it had to hash itself. */
function countingIndex(hasher: SubjectHasher): { index: AccessIndex; hashed: string[] } {
  const hashed: string[] = [];
  const index = new AccessIndex({ subjectOf: (email) => (hashed.push(email), hasher.of(email)), subjectKeyId: hasher.keyId });
  return { index, hashed };
}

describe('stored member-token subjects', () => {
  it('a store with the key writes each new person with subject and key id; the loader uses them without hashing', () => {
    const t = tempDir();
    cleanup.push(t.cleanup);
    const hasher = subjectHasher(randomBytes(32));
    const store = storeIn(t.dir, hasher);
    const ids = store.transact((tx) => [upsertPerson(tx, 'Ann@Example.com', null, T0), upsertPerson(tx, 'bob@example.com', null, T0)]);
    const row = store.db.prepare('SELECT subject_hi, subject_lo, subject_key FROM people WHERE id = ?').get(ids[0]) as Record<string, number>;
    expect(row).toEqual({ subject_hi: hasher.of('ann@example.com').hi, subject_lo: hasher.of('ann@example.com').lo, subject_key: hasher.keyId });

    const { index, hashed } = countingIndex(hasher);
    loadIndex(store.db, index);
    expect(hashed).toEqual([]);
    expect(index.recordPersonId(index.subjectRecord(hasher.of('ann@example.com')))).toBe(ids[0]);
    expect(index.recordPersonId(index.subjectRecord(hasher.of('bob@example.com')))).toBe(ids[1]);
    // The one-person path (own commits, other processes' changes) takes the stored subject too.
    refreshPeople(store.db, index, [ids[0]!]);
    expect(hashed).toEqual([]);
  });

  it('a subject stored under another key (a rotated key) is not trusted: the index computes it with its own', () => {
    const t = tempDir();
    cleanup.push(t.cleanup);
    const oldKey = subjectHasher(randomBytes(32));
    const store = storeIn(t.dir, oldKey);
    const id = store.transact((tx) => upsertPerson(tx, 'ann@example.com', null, T0));
    const current = subjectHasher(randomBytes(32));
    const { index, hashed } = countingIndex(current);
    loadIndex(store.db, index);
    expect(hashed).toEqual(['ann@example.com']);
    expect(index.recordPersonId(index.subjectRecord(current.of('ann@example.com')))).toBe(id);
    expect(index.subjectRecord(oldKey.of('ann@example.com'))).toBe(-1);
  });

  it('a person written without the key (no hasher, or before migration 8) gets the subject computed at load', () => {
    const t = tempDir();
    cleanup.push(t.cleanup);
    const store = storeIn(t.dir);
    const id = store.transact((tx) => upsertPerson(tx, 'ann@example.com', null, T0));
    expect(store.db.prepare('SELECT subject_key FROM people WHERE id = ?').get(id)).toEqual({ subject_key: null });
    const hasher = subjectHasher(randomBytes(32));
    const { index, hashed } = countingIndex(hasher);
    loadIndex(store.db, index);
    expect(hashed).toEqual(['ann@example.com']);
    expect(index.recordPersonId(index.subjectRecord(hasher.of('ann@example.com')))).toBe(id);
  });

  it('an email changed by any writer (here raw SQL, as the sqlite3 shell) voids the stored subject', () => {
    const t = tempDir();
    cleanup.push(t.cleanup);
    const hasher = subjectHasher(randomBytes(32));
    const store = storeIn(t.dir, hasher);
    const id = store.transact((tx) => upsertPerson(tx, 'ann@example.com', null, T0));
    store.db.prepare("UPDATE people SET email = 'anne@example.com' WHERE id = ?").run(id);
    expect(store.db.prepare('SELECT subject_hi, subject_lo, subject_key FROM people WHERE id = ?').get(id)).toEqual({
      subject_hi: null,
      subject_lo: null,
      subject_key: null,
    });
    // Another column changing keeps it.
    store.db.prepare("UPDATE people SET state = 'suspended' WHERE id = ?").run(id);
    const { index, hashed } = countingIndex(hasher);
    loadIndex(store.db, index);
    expect(hashed).toEqual(['anne@example.com']);
    expect(index.subjectRecord(hasher.of('ann@example.com'))).toBe(-1);
    expect(index.recordPersonId(index.subjectRecord(hasher.of('anne@example.com')))).toBe(id);
  });
});
