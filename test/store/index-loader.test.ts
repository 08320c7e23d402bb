import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { LOAD_BATCH, loadIndex } from '../../src/store/index-loader.js';
import { assignCredential, setPersonState, upsertPerson } from '../../src/store/people.js';
import { testStore } from '../helpers/store.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

describe('loadIndex reads the store a batch of people at a time', () => {
  it('a load over several batches, with gaps in the ids, equals the incrementally maintained index', () => {
    const s = testStore(['front', 'lab']);
    cleanup.push(s.close);
    const people = 2 * LOAD_BATCH + 7;
    const cards: string[] = [];
    s.store.transact((tx) => {
      for (let i = 0; i < people; i++) {
        const id = upsertPerson(tx, `p${i}@example.com`, null, T0);
        // Some hold no card, some two (one disabled), some are suspended; grants on either door.
        if (i % 7 !== 0) cards.push(String(500_000 + i));
        if (i % 7 !== 0) assignCredential(tx, id, String(500_000 + i), 'decimal', 'active', T0);
        if (i % 11 === 0) assignCredential(tx, id, String(900_000 + i), 'decimal', 'disabled', T0);
        if (i % 13 === 0) setPersonState(tx, id, 'suspended', T0);
        replaceSourceGrants(tx, 'staff', `p${i}`, [{ personId: id, doorId: i % 2 ? 'lab' : 'front', validFrom: i % 3 ? null : T0 + 10, validTo: null }]);
      }
    });
    // Holes in the id sequence, one on each batch boundary.
    s.store.db.prepare('DELETE FROM people WHERE id IN (?, ?, ?)').run(LOAD_BATCH, LOAD_BATCH + 1, 2 * LOAD_BATCH);
    const fresh = new AccessIndex();
    loadIndex(s.store.db, fresh);
    expect(fresh.stats()).toMatchObject({ people: people - 3, doors: 2 });
    // Against the index kept in step by every commit, minus the three deleted people.
    const removed = [LOAD_BATCH, LOAD_BATCH + 1, 2 * LOAD_BATCH].map((id) => String(500_000 + id - 1));
    for (const card of [...cards.filter((_, k) => k % 97 === 0), ...removed, String(900_000 + 11), '1'])
      for (const door of ['front', 'lab'])
        for (const at of [T0, T0 + 20]) {
          const expected = removed.includes(card) ? 'unknown_credential' : decideCard(s.index, card, door, at).reason;
          expect(decideCard(fresh, card, door, at).reason).toBe(expected);
        }
  });
});
