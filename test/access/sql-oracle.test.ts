import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import type { AccessModel, DayInterval } from '../../src/access/model.js';
import { CompiledSchedules } from '../../src/access/schedule/compiled-schedules.js';
import { openAt } from '../../src/access/schedule/schedule-time.js';
import type { Reason } from '../../src/access/types.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { loadIndex, refreshDoors, refreshPeople } from '../../src/store/index-loader.js';
import { Store, type Tx } from '../../src/store/store.js';
import type { CredentialState } from '../../src/store/credentials-repository.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The decision the index gives, commit after commit, equals a plain reference computed
 * straight from SQLite with the rules written out once more (below, slow and obvious): random
 * histories of people, cards, validity, bookings, group memberships and lockdown, read at
 * random instants around Europe/Berlin's DST changes and a holiday. Whether a schedule is open
 * at an instant is asked of schedule-time's openAt, which its own property test holds against
 * a minute-by-minute Intl walk (test/access/schedule/schedule-property.test.ts).
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Sunday night of the spring change, Sunday night of the autumn one, and an ordinary Wednesday. */
const BASES = [Date.parse('2026-03-29T00:00:00Z'), Date.parse('2026-10-25T00:00:00Z'), Date.parse('2026-12-02T06:00:00Z')];
const DOORS = ['front', 'lab', 'side'];
const EMAILS = ['ana@example.com', 'ben@example.com', 'cy@example.com'];
const CARDS = ['1001', '1002', '1003', '1004'];
const GROUPS = ['staff', 'cleaners', 'security'];

const iv = (from: string, to: string): DayInterval => ({ from: mins(from), to: mins(to) });
function mins(t: string): number {
  const [h, m] = t.split(':').map(Number);
  return h! * 60 + m!;
}
const week = (...days: DayInterval[][]) => days;
const office = [iv('07:00', '19:00')];
const MODEL: AccessModel = {
  timeZone: 'Europe/Berlin',
  schedules: [
    { id: 'office', weekly: week(office, office, office, office, office, [], []), holiday: [] },
    { id: 'night', weekly: week(...Array.from({ length: 7 }, () => [iv('22:00', '06:00')])), holiday: [iv('00:00', '24:00')] },
    { id: 'early', weekly: week([], [], [], [], [], [], [iv('01:30', '02:30')]), holiday: [] },
  ],
  holidays: [
    { name: 'Day after the change', date: '2026-10-26' },
    { name: 'Yearly', date: '03-30' },
  ],
  zones: [
    { id: 'lobby', doors: ['front'] },
    { id: 'lab', doors: ['lab'] },
    { id: 'side', doors: ['side'] },
  ],
  groups: [
    { id: 'staff', zones: [{ zone: 'lobby', schedule: 'office' }, { zone: 'lab', schedule: 'night' }], lockdownOverride: false, firstPersonIn: false },
    { id: 'cleaners', zones: [{ zone: 'side', schedule: 'early' }, { zone: 'lobby', schedule: 'night' }], lockdownOverride: false, firstPersonIn: false },
    { id: 'security', zones: [{ zone: 'lobby', schedule: null }, { zone: 'lab', schedule: null }], lockdownOverride: true, firstPersonIn: false },
  ],
  areas: [],
  doors: DOORS.map((id) => ({ id, mode: 'card' as const, unlockSchedule: null, firstPersonIn: false })),
};

type Step =
  | { kind: 'card'; email: number; card: number; state: CredentialState }
  | { kind: 'card-validity'; card: number; from: number | null; hours: number }
  | { kind: 'suspend'; email: number; suspended: boolean }
  | { kind: 'person-validity'; email: number; from: number | null; hours: number }
  | { kind: 'booking'; source: number; email: number; door: number; from: number; hours: number }
  | { kind: 'groups'; email: number; groups: string[]; from: number | null; hours: number }
  | { kind: 'remove'; email: number }
  | { kind: 'lockdown'; on: boolean };

const pick = (n: number) => fc.nat({ max: n - 1 });
const offset = fc.option(fc.integer({ min: -72, max: 72 }), { nil: null, freq: 2 });
const hours = fc.integer({ min: 1, max: 96 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('card' as const), email: pick(EMAILS.length), card: pick(CARDS.length), state: fc.constantFrom<CredentialState>('active', 'active', 'active', 'disabled', 'lost') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('card-validity' as const), card: pick(CARDS.length), from: offset, hours }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('suspend' as const), email: pick(EMAILS.length), suspended: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('person-validity' as const), email: pick(EMAILS.length), from: offset, hours }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('booking' as const), source: pick(3), email: pick(EMAILS.length), door: pick(DOORS.length), from: fc.integer({ min: -72, max: 72 }), hours }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('groups' as const), email: pick(EMAILS.length), groups: fc.subarray(GROUPS), from: offset, hours }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), email: pick(EMAILS.length) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lockdown' as const), on: fc.boolean() }) },
);

function apply(tx: Tx, s: Step, base: number): void {
  const at = (h: number | null) => (h === null ? null : base + h * HOUR);
  const until = (from: number | null, h: number) => (from === null ? null : base + (from + h) * HOUR);
  const personId = (email: number) => tx.people.upsert(EMAILS[email]!, null, base);
  switch (s.kind) {
    case 'card': {
      const holder = tx.credentials.byNumber(CARDS[s.card]!);
      const id = personId(s.email);
      if (holder && holder.person_id !== id) return; // a card stays with its holder (a 409 in the API)
      return tx.credentials.assign(id, CARDS[s.card]!, 'decimal', s.state, base);
    }
    case 'card-validity':
      return void tx.credentials.setValidity(CARDS[s.card]!, { from: at(s.from), to: until(s.from, s.hours) }, base);
    case 'suspend':
      return tx.people.setState(personId(s.email), s.suspended ? 'suspended' : 'active', base);
    case 'person-validity':
      return tx.people.setValidity(personId(s.email), { from: at(s.from), to: until(s.from, s.hours) }, base);
    case 'booking':
      return tx.grants.replaceSource('booking', `b${s.source}`, [
        { personId: personId(s.email), doorId: DOORS[s.door]!, validFrom: at(s.from), validTo: until(s.from, s.hours) },
      ]);
    case 'groups':
      return tx.groups.replace(personId(s.email), 'staff', 'import', s.groups.map((group) => ({ group, validFrom: at(s.from), validTo: until(s.from, s.hours) })));
    case 'remove':
      return void tx.people.remove(personId(s.email));
    case 'lockdown':
      return void tx.site.setLockdown(s.on, base, 'test');
  }
}

interface Row {
  [k: string]: number | string | null;
}
const inside = (at: number, from: number | null, to: number | null) => (from === null || at >= from) && (to === null || at < to);
const holidays = new CompiledSchedules(MODEL);

/** The rules once more, straight from the tables: what the index must answer. */
function oracle(db: Db, card: string, door: string, at: number): { reason: Reason; personId: number | null } {
  const lockdown = (db.prepare("SELECT value FROM site_state WHERE key = 'lockdown'").pluck().get() as string | undefined) === 'on';
  const cred = db.prepare('SELECT person_id, state, valid_from, valid_to FROM credentials WHERE number = ?').get(card) as Row | undefined;
  if (!cred) return { reason: lockdown ? 'lockdown' : 'unknown_credential', personId: null };
  const personId = cred.person_id as number;
  const groups = (db.prepare('SELECT group_id, valid_from, valid_to FROM person_groups WHERE person_id = ?').all(personId) as Row[]).filter((m) =>
    inside(at, m.valid_from as number | null, m.valid_to as number | null),
  );
  const overrides = groups.some((m) => MODEL.groups.find((g) => g.id === m.group_id)?.lockdownOverride === true);
  const deny = (reason: Reason) => ({ reason, personId });
  if (lockdown && !overrides) return deny('lockdown');
  if (cred.state !== 'active') return deny(cred.state === 'lost' ? 'credential_lost' : 'credential_disabled');
  if (cred.valid_from !== null && at < (cred.valid_from as number)) return deny('credential_not_yet_valid');
  if (cred.valid_to !== null && at >= (cred.valid_to as number)) return deny('credential_expired');
  const person = db.prepare('SELECT state, valid_from, valid_to FROM people WHERE id = ?').get(personId) as Row;
  if (person.state !== 'active') return deny('person_suspended');
  if (person.valid_from !== null && at < (person.valid_from as number)) return deny('person_not_yet_valid');
  if (person.valid_to !== null && at >= (person.valid_to as number)) return deny('person_expired');
  const windows: { from: number | null; to: number | null; schedule: string | null }[] = [];
  for (const g of db.prepare('SELECT valid_from, valid_to FROM grants WHERE person_id = ? AND door_id = ?').all(personId, door) as Row[]) {
    windows.push({ from: g.valid_from as number | null, to: g.valid_to as number | null, schedule: null });
  }
  const all = db.prepare('SELECT group_id, valid_from, valid_to FROM person_groups WHERE person_id = ?').all(personId) as Row[];
  for (const m of all) {
    for (const gz of MODEL.groups.find((g) => g.id === m.group_id)?.zones ?? []) {
      if (MODEL.zones.find((z) => z.id === gz.zone)?.doors.includes(door) === true) windows.push({ from: m.valid_from as number | null, to: m.valid_to as number | null, schedule: gz.schedule });
    }
  }
  if (windows.length === 0) return deny('no_grant');
  const bounded = windows.filter((w) => inside(at, w.from, w.to));
  if (bounded.some((w) => w.schedule === null || openAt(MODEL.schedules.find((s) => s.id === w.schedule)!, MODEL.holidays, MODEL.timeZone, at))) return { reason: 'granted', personId };
  if (bounded.length > 0) return deny(holidays.isHoliday(at) ? 'holiday' : 'outside_schedule');
  return deny('outside_window');
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function modelStore(): { store: Store; index: AccessIndex } {
  const t = tempDir();
  const store = new Store(openDatabase(join(t.dir, 'lintel.db')));
  cleanup.push(() => (store.close(), t.cleanup()));
  const index = new AccessIndex();
  index.setModel(MODEL, new CompiledSchedules(MODEL));
  store.onCommit((c) => {
    if (c.doors) refreshDoors(store.db, index);
    refreshPeople(store.db, index, c.people);
  });
  store.transact((tx) => syncDoorsAndResources(tx, DOORS.map((id) => ({ id, name: id })), new Map()));
  loadIndex(store.db, index);
  return { store, index };
}

describe('the index agrees with a plain SQL reference', () => {
  it('over random histories and instants, across DST changes and holidays', () => {
    let granted = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: BASES.length - 1 }),
        fc.array(fc.tuple(step, fc.array(fc.integer({ min: -72 * 60, max: 72 * 60 }), { minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 20 }),
        (b, history) => {
          const base = BASES[b]!;
          const { store, index } = modelStore();
          for (const [s, moves] of history) {
            store.transact((tx) => apply(tx, s, base));
            const lockdown = store.db.prepare("SELECT value FROM site_state WHERE key = 'lockdown'").pluck().get() === 'on';
            for (const minutes of moves) {
              const at = base + minutes * MIN;
              for (const card of CARDS) {
                for (const door of DOORS) {
                  const got = decideCard(index, card, door, at, { site: { lockdown } });
                  const want = oracle(store.db, card, door, at);
                  if (want.reason === 'granted') granted++;
                  expect({ card, door, at: new Date(at).toISOString(), reason: got.reason, personId: got.personId }).toEqual({
                    card,
                    door,
                    at: new Date(at).toISOString(),
                    reason: want.reason,
                    personId: want.personId,
                  });
                }
              }
            }
          }
        },
      ),
      { numRuns: 120 },
    );
    // The histories reach the interesting branch, not only denials.
    expect(granted).toBeGreaterThan(50);
    // 120 random histories, each a fresh SQLite reference: ~10 s alone, twice that on a loaded 2-core box.
  }, 60_000);
});
