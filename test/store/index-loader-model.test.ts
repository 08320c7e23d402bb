import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex, type PersonInput } from '../../src/access/access-index.js';
import { LOAD_BATCH, loadIndex, refreshPeople } from '../../src/store/index-loader.js';
import { testStore } from '../helpers/store.js';

/*
 * The loader hands the index the access model's person fields (migration 11): the person's
 * validity, each card's state ('lost' apart from 'disabled') and own validity, and the
 * memberships of person_groups, the same from the paged start-up load as from a refresh.
 */

const T0 = Date.parse('2026-12-02T10:00:00Z');
const DAY = 86_400_000;

/** A real index that also keeps a copy of every PersonInput it was given (the loader reuses its scratch objects). */
class RecordingIndex extends AccessIndex {
  readonly inputs = new Map<number, PersonInput>();
  override putPerson(input: PersonInput): void {
    this.inputs.set(input.id, structuredClone(input));
    super.putPerson(input);
  }
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

describe('the loader fills validity, card states and memberships', () => {
  it('start-up load and refresh give the index the same inputs, across page boundaries', () => {
    const s = testStore(['front']);
    cleanup.push(s.close);
    const ids = s.store.transact((tx) => {
      const made: number[] = [];
      for (let i = 0; i < LOAD_BATCH + 3; i++) made.push(tx.people.upsert(`p${i}@example.com`, null, T0));
      // The interesting people sit on both sides of the first page boundary.
      const [a, b] = [made[LOAD_BATCH - 1]!, made[LOAD_BATCH]!];
      tx.people.setValidity(a, { from: T0, to: T0 + 30 * DAY }, T0);
      tx.credentials.assign(a, '1001', 'decimal', 'active', T0);
      tx.credentials.setValidity('1001', { from: null, to: T0 + DAY }, T0);
      tx.credentials.assign(a, '1002', 'decimal', 'lost', T0);
      tx.groups.replace(a, 'staff', 'import:a', [
        { group: 'staff', validFrom: null, validTo: null },
        { group: 'night', validFrom: T0, validTo: T0 + DAY },
      ]);
      tx.people.setValidity(b, { from: null, to: T0 }, T0);
      tx.credentials.assign(b, '2001', 'decimal', 'disabled', T0);
      tx.groups.replace(b, 'api', 'key-1', [{ group: 'staff', validFrom: T0, validTo: null }]);
      return [a, b] as const;
    });
    const loaded = new RecordingIndex();
    loadIndex(s.store.db, loaded);
    const refreshed = new RecordingIndex();
    refreshPeople(s.store.db, refreshed, ids);
    const [a, b] = ids;
    expect(loaded.inputs.get(a)).toMatchObject({
      validFrom: T0,
      validTo: T0 + 30 * DAY,
      cards: [
        { number: '1001', active: true, state: 'active', validTo: T0 + DAY },
        { number: '1002', active: false, state: 'lost' },
      ],
    });
    expect(loaded.inputs.get(a)!.cards[0]!.validFrom).toBeUndefined();
    expect([...loaded.inputs.get(a)!.memberships!].sort((x, y) => x.group.localeCompare(y.group))).toEqual([
      { group: 'night', from: T0, to: T0 + DAY },
      { group: 'staff', from: -Infinity, to: Infinity },
    ]);
    expect(loaded.inputs.get(b)).toMatchObject({ validTo: T0, cards: [{ number: '2001', active: false, state: 'disabled' }], memberships: [{ group: 'staff', from: T0, to: Infinity }] });
    expect(loaded.inputs.get(b)!.validFrom).toBeUndefined();
    // A person without any of it: open validity, no memberships.
    expect(loaded.inputs.get(a - 1)).toMatchObject({ cards: [], grants: [], memberships: [] });
    expect(loaded.inputs.get(a - 1)!.validFrom).toBeUndefined();
    const sortedMemberships = (p: PersonInput) => ({ ...p, memberships: [...(p.memberships ?? [])].sort((x, y) => x.group.localeCompare(y.group)) });
    for (const id of ids) expect(sortedMemberships(refreshed.inputs.get(id)!)).toEqual(sortedMemberships(loaded.inputs.get(id)!));
  });

  it('a site without any membership row: every person gets an empty list (the fourth query is skipped)', () => {
    const s = testStore(['front']);
    cleanup.push(s.close);
    const id = s.store.transact((tx) => {
      const made = tx.people.upsert('a@example.com', null, T0);
      tx.credentials.assign(made, '1001', 'decimal', 'active', T0);
      return made;
    });
    const loaded = new RecordingIndex();
    loadIndex(s.store.db, loaded);
    expect(loaded.inputs.get(id)).toMatchObject({ memberships: [], cards: [{ number: '1001', state: 'active' }] });
  });
});
