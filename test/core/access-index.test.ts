import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard, decidePerson } from '../../src/access/decide.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { loadIndex } from '../../src/store/index-loader.js';
import { assignCredential, setCredentialState, setPersonState, upsertPerson } from '../../src/store/people.js';
import { Store } from '../../src/store/store.js';
import { testStore } from '../helpers/store.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const H = 3600_000;

describe('store → index → decision', () => {
  let store: Store;
  let index: AccessIndex;
  let cleanup: () => void;

  beforeEach(() => {
    ({ store, index, close: cleanup } = testStore(['front', 'lab'], { 'R-1': ['lab'] }));
  });
  afterEach(() => cleanup());

  function person(email: string, card?: string): number {
    return store.transact((tx) => {
      const id = upsertPerson(tx, email, null, T0);
      if (card) assignCredential(tx, id, card, 'decimal', 'active', T0);
      return id;
    });
  }

  it('gives every reason explicitly', () => {
    const ana = person('Ana@Example.com', '1001');
    store.transact((tx) =>
      replaceSourceGrants(tx, 'staff', 'import:ana', [{ personId: ana, doorId: 'front', validFrom: T0, validTo: T0 + H }]),
    );
    expect(decideCard(index, '1001', 'front', T0 + 1)).toEqual({ result: 'granted', reason: 'granted', personId: ana });
    expect(decideCard(index, '1001', 'front', T0 + H).reason).toBe('outside_window'); // valid_to is exclusive
    expect(decideCard(index, '1001', 'front', T0 - 1).reason).toBe('outside_window');
    expect(decideCard(index, '1001', 'lab', T0 + 1).reason).toBe('no_grant');
    expect(decideCard(index, '9999', 'front', T0).reason).toBe('unknown_credential');
    expect(decideCard(index, '1001', 'vault', T0).reason).toBe('door_unknown');
    store.transact((tx) => setCredentialState(tx, '1001', 'lost', T0));
    expect(decideCard(index, '1001', 'front', T0 + 1)).toEqual({ result: 'denied', reason: 'credential_lost', personId: ana });
    store.transact((tx) => setCredentialState(tx, '1001', 'active', T0));
    store.transact((tx) => setPersonState(tx, ana, 'suspended', T0));
    expect(decideCard(index, '1001', 'front', T0 + 1).reason).toBe('person_suspended');
    expect(decidePerson(index, ana, 'front', T0 + 1).reason).toBe('person_suspended');
  });

  it('open-ended grants and emails that differ only in case', () => {
    const a = person('li@example.com', '2002');
    expect(person('LI@EXAMPLE.COM')).toBe(a);
    store.transact((tx) => replaceSourceGrants(tx, 'staff', 's', [{ personId: a, doorId: 'lab', validFrom: null, validTo: null }]));
    expect(decideCard(index, '2002', 'lab', 0).result).toBe('granted');
    expect(decideCard(index, '2002', 'lab', 8e15).result).toBe('granted');
  });

  it('a pending person (no card) gets access the moment a card is added', () => {
    const p = person('pending@example.com');
    store.transact((tx) => replaceSourceGrants(tx, 'booking', 'A-1', [{ personId: p, doorId: 'lab', validFrom: T0, validTo: T0 + H }]));
    expect(decideCard(index, '3003', 'lab', T0 + 1).reason).toBe('unknown_credential');
    store.transact((tx) => assignCredential(tx, p, '3003', 'decimal', 'active', T0));
    expect(decideCard(index, '3003', 'lab', T0 + 1).result).toBe('granted');
  });

  it('replacing a source revokes what it no longer grants, and a rolled-back change touches nothing', () => {
    const a = person('a@example.com', '1');
    const b = person('b@example.com', '2');
    store.transact((tx) =>
      replaceSourceGrants(tx, 'booking', 'A-9', [
        { personId: a, doorId: 'lab', validFrom: T0, validTo: T0 + H },
        { personId: b, doorId: 'lab', validFrom: T0, validTo: T0 + H },
      ]),
    );
    store.transact((tx) => replaceSourceGrants(tx, 'booking', 'A-9', [{ personId: a, doorId: 'lab', validFrom: T0, validTo: T0 + H }]));
    expect(decideCard(index, '1', 'lab', T0 + 1).result).toBe('granted');
    expect(decideCard(index, '2', 'lab', T0 + 1).reason).toBe('no_grant');
    expect(() =>
      store.transact((tx) => {
        replaceSourceGrants(tx, 'booking', 'A-9', []);
        throw new Error('rejected input');
      }),
    ).toThrow('rejected input');
    expect(decideCard(index, '1', 'lab', T0 + 1).result).toBe('granted');
  });

  it('a card cannot silently move to another person', () => {
    person('a@example.com', '77');
    const b = person('b@example.com');
    expect(() => store.transact((tx) => assignCredential(tx, b, '77', 'decimal', 'active', T0))).toThrow(/another person/);
    expect(decideCard(index, '77', 'lab', T0).personId).not.toBe(b);
  });

  it('a full rebuild from SQLite equals the incrementally maintained index', () => {
    const ids = ['x@e.com', 'y@e.com', 'z@e.com'].map((e, i) => person(e, String(100 + i)));
    store.transact((tx) =>
      replaceSourceGrants(tx, 'staff', 'k', ids.map((id, i) => ({ personId: id, doorId: i % 2 ? 'lab' : 'front', validFrom: T0, validTo: null }))),
    );
    const rebuilt = new AccessIndex();
    loadIndex(store.db, rebuilt);
    expect(rebuilt.stats()).toEqual(index.stats());
    for (const card of ['100', '101', '102', '999'])
      for (const door of ['front', 'lab']) expect(decideCard(rebuilt, card, door, T0 + 5)).toEqual(decideCard(index, card, door, T0 + 5));
  });

  it('the audit log is append-only', () => {
    store.db.prepare("INSERT INTO audit (at, result, reason) VALUES (1, 'denied', 'x')").run();
    expect(() => store.db.prepare('UPDATE audit SET reason = ?').run('y')).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
  });
});

describe('housekeeping', () => {
  it('prunes grants and appointments that ended over a week ago, and the index follows', async () => {
    const { pruneEnded, RETAIN_ENDED_MS } = await import('../../src/store/housekeeping.js');
    const { store, index, close } = testStore(['front']);
    const id = store.transact((tx) => {
      const p = upsertPerson(tx, 'a@e.com', null, T0);
      assignCredential(tx, p, '1', 'decimal', 'active', T0);
      return p;
    });
    store.transact((tx) =>
      replaceSourceGrants(tx, 'booking', 'old', [{ personId: id, doorId: 'front', validFrom: T0 - 10 * 86_400_000, validTo: T0 - RETAIN_ENDED_MS - 1 }]),
    );
    store.transact((tx) => replaceSourceGrants(tx, 'staff', 'keep', [{ personId: id, doorId: 'front', validFrom: null, validTo: null }]));
    store.db
      .prepare("INSERT INTO appointments VALUES ('A-old', 'R', 'confirmed', 0, ?, '[]', NULL, 0)")
      .run(T0 - RETAIN_ENDED_MS - 1);
    expect(index.stats().grants).toBe(2);
    expect(pruneEnded(store, T0)).toEqual({ grants: 1, appointments: 1 });
    expect(index.stats().grants).toBe(1);
    expect(decideCard(index, '1', 'front', T0).result).toBe('granted');
    close();
  });
});

describe('AccessIndex layout', () => {
  const at = T0 + 1;
  it('a card that changes hands or state is found only where it now is', () => {
    const index = new AccessIndex();
    index.setDoors(['front']);
    const grants = [{ door: 'front', from: T0, to: T0 + H }];
    index.putPerson({ id: 1, active: true, tokensValidAfter: 0, grants, cards: [{ number: '77', active: true }] });
    index.putPerson({ id: 2, active: true, tokensValidAfter: 0, grants, cards: [{ number: '77', active: false }] });
    expect(decideCard(index, '77', 'front', at)).toEqual({ result: 'denied', reason: 'credential_disabled', personId: 2 });
    index.putPerson({ id: 1, active: true, tokensValidAfter: 0, grants, cards: [] }); // 1's refresh must not drop 2's card
    expect(decideCard(index, '77', 'front', at).reason).toBe('credential_disabled');
    index.putPerson({ id: 2, active: true, tokensValidAfter: 0, grants, cards: [{ number: '77', active: true }] });
    expect(decideCard(index, '77', 'front', at)).toEqual({ result: 'granted', reason: 'granted', personId: 2 });
    index.removePerson(2);
    expect(decideCard(index, '77', 'front', at).reason).toBe('unknown_credential');
    expect(index.stats()).toEqual({ people: 1, cards: 0, grants: 1, doors: 1 });
  });

  it('grants naming a door configured later, or no longer, decide by door id', () => {
    const index = new AccessIndex();
    index.setDoors(['front']);
    index.putPerson({
      id: 1,
      active: true,
      tokensValidAfter: 0,
      grants: [
        { door: 'lab', from: -Infinity, to: Infinity },
        { door: 'front', from: T0 + H, to: T0 + 2 * H },
      ],
      cards: [{ number: '88', active: true }],
    });
    expect(decideCard(index, '88', 'lab', at).reason).toBe('door_unknown');
    expect(decideCard(index, '88', 'front', at).reason).toBe('outside_window');
    index.setDoors(['front', 'lab']);
    expect(decideCard(index, '88', 'lab', at).result).toBe('granted');
    expect(decideCard(index, '88', 'front', T0 + H).result).toBe('granted');
    index.setDoors(['lab']);
    expect(decideCard(index, '88', 'front', T0 + H).reason).toBe('door_unknown');
    expect(decidePerson(index, 1, 'lab', at).result).toBe('granted');
  });
});

describe('AccessIndex against a plain model', () => {
  type Input = Parameters<AccessIndex['putPerson']>[0];
  const doors = ['front', 'lab', 'vault'];
  const times = [-1e15, T0 - 1, T0, T0 + H - 1, T0 + H, 8e15];
  const bound = fc.constantFrom(-Infinity, T0, T0 + H, Infinity);
  const cardNumber = fc.constantFrom('1', '2', '77', '007', '123456789012345', '72057594037927935', '18446744073709551616', 'A1B2');
  // a and b share a subject (a collision); d's low word spells a NaN when read as a double.
  const SUBJECTS: Record<string, { hi: number; lo: number }> = {
    a: { hi: 1, lo: 2 },
    b: { hi: 1, lo: 2 },
    c: { hi: 0, lo: 0 },
    d: { hi: 0xffff_ffff, lo: 0xfff8_0001 },
  };
  const subjectOf = (email: string) => SUBJECTS[email]!;
  const personInput = fc.record({
    id: fc.integer({ min: 1, max: 6 }),
    email: fc.constantFrom('a', 'b', 'c', 'd'),
    active: fc.boolean(),
    tokensValidAfter: fc.integer({ min: 0, max: 10 }),
    grants: fc.array(fc.record({ door: fc.constantFrom(...doors, 'gone'), from: bound, to: bound }), { maxLength: 6 }),
    cards: fc.uniqueArray(fc.record({ number: cardNumber, active: fc.boolean() }), { selector: (c) => c.number, maxLength: 3 }),
  });
  const step = fc.oneof(
    personInput.map((p) => ({ put: p as Input })),
    fc.integer({ min: 1, max: 6 }).map((id) => ({ remove: id })),
  );

  /** What the index must answer: the last put wins a card; a removed person holds nothing. */
  function modelDecide(people: Map<number, Input>, owner: Map<string, number>, card: string, door: string, at: number): string {
    if (!doors.slice(0, 2).includes(door)) return 'door_unknown';
    const id = owner.get(card);
    const p = id === undefined ? undefined : people.get(id);
    const c = p?.cards.find((x) => x.number === card);
    if (!p || !c) return 'unknown_credential';
    if (!c.active) return 'credential_disabled';
    if (!p.active) return 'person_suspended';
    const atDoor = p.grants.filter((g) => g.door === door);
    if (atDoor.some((g) => at >= g.from && at < g.to)) return 'granted';
    return atDoor.length > 0 ? 'outside_window' : 'no_grant';
  }

  it('decides every card, door and instant as the model does after any sequence of puts and removes', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const index = new AccessIndex({ subjectOf });
        index.setDoors(doors.slice(0, 2));
        const people = new Map<number, Input>();
        const owner = new Map<string, number>();
        for (const s of steps) {
          if ('put' in s) {
            index.putPerson(s.put);
            people.set(s.put.id, s.put);
            for (const [card, id] of owner) if (id === s.put.id) owner.delete(card);
            for (const c of s.put.cards) owner.set(c.number, s.put.id);
          } else {
            index.removePerson(s.remove);
            people.delete(s.remove);
            for (const [card, id] of owner) if (id === s.remove) owner.delete(card);
          }
        }
        for (const card of ['1', '2', '77', '007', '123456789012345', '72057594037927935', '18446744073709551616', 'A1B2', '9'])
          for (const door of doors)
            for (const at of times) expect(decideCard(index, card, door, at).reason).toBe(modelDecide(people, owner, card, door, at));
        for (const [id, p] of people) {
          expect(index.person(id)).toEqual({ id, active: p.active, tokensValidAfter: p.tokensValidAfter });
          expect(decidePerson(index, id, 'lab', T0).personId).toBe(id);
          expect(index.tokensValidAfter(id)).toBe(p.tokensValidAfter);
          const record = index.personRecord(id);
          expect(index.recordCardsWithdrawn(record)).toBe(p.cards.length > 0 && p.cards.every((c) => !c.active));
        }
        // A subject names a person only when exactly one person has it.
        let shared = 0;
        for (const subject of [SUBJECTS.a!, SUBJECTS.c!, SUBJECTS.d!]) {
          const holders = [...people.values()].filter((p) => subjectOf(p.email!).lo === subject.lo && subjectOf(p.email!).hi === subject.hi).map((p) => p.id);
          const record = index.subjectRecord(subject);
          expect(record < 0 ? null : index.recordPersonId(record)).toBe(holders.length === 1 ? holders[0] : null);
          if (holders.length > 1) shared++;
        }
        expect(index.subjectCollisions()).toBe(shared);
        const grants = [...people.values()].reduce((n, p) => n + p.grants.length, 0);
        expect(index.stats()).toEqual({ people: people.size, cards: owner.size, grants, doors: 2 });
      }),
      { numRuns: 400 },
    );
  });
});

describe('AccessIndex member subjects', () => {
  it('keeps every subject’s 64 raw bits through pool growth, including NaN bit patterns', () => {
    const subject = (i: number) => ({ hi: (i * 2654435761) >>> 0, lo: (0xfff8_0000 | i) >>> 0 });
    const index = new AccessIndex({ subjectOf: (email) => subject(Number(email)) });
    index.setDoors(['front']);
    const people = 20_000; // the pool starts at 2,048 records: it grows several times
    for (let i = 1; i <= people; i++) index.putPerson({ id: i, email: String(i), active: true, tokensValidAfter: 0, grants: [], cards: [] });
    for (let i = 1; i <= people; i++) expect(index.recordPersonId(index.subjectRecord(subject(i)))).toBe(i);
    for (let i = 1; i <= people; i += 2) index.removePerson(i);
    for (let i = 1; i <= people; i++) expect(index.subjectRecord(subject(i)) >= 0).toBe(i % 2 === 0);
    expect(index.subjectCollisions()).toBe(0);
  });

  it('gives nobody a subject without a hasher, and accepts one only while empty', () => {
    const index = new AccessIndex();
    index.putPerson({ id: 1, email: 'a', active: true, tokensValidAfter: 0, grants: [], cards: [] });
    expect(index.subjectRecord({ hi: 0, lo: 0 })).toBe(-1);
    expect(() => index.setSubjectHasher(() => ({ hi: 0, lo: 0 }))).toThrow(/already holds people/);
  });
});
