import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessIndex, type CardInput, type GrantWindow, type PersonInput } from '../../src/access/access-index.js';
import { decideCard, type PolicyContext } from '../../src/access/decide.js';
import type { AccessModel, Membership } from '../../src/access/model.js';
import type { Reason } from '../../src/access/types.js';
import { ListedSchedules } from './test-schedules.js';

/*
 * The decision core against a reference written from the rules' text, over random people
 * (grants with schedules and sources, memberships, person and card validity, lost cards),
 * random re-puts and removals, lockdown on and off, at instants around every bound.
 */

const H = 3600_000;
const DOORS = ['front', 'lab'];
const TIMES = [0, 1, 2, 3, 4, 5, 6].map((h) => h * H);
const model: AccessModel = {
  timeZone: 'UTC',
  schedules: [{ id: 'office', weekly: [[], [], [], [], [], [], []], holiday: [] }],
  holidays: [],
  zones: [{ id: 'front', doors: ['front'] }, { id: 'both', doors: DOORS }],
  groups: [
    { id: 'staff', zones: [{ zone: 'front', schedule: 'office' }], lockdownOverride: false, firstPersonIn: false },
    { id: 'security', zones: [{ zone: 'both', schedule: null }], lockdownOverride: true, firstPersonIn: false },
  ],
  areas: [],
  doors: [],
};
const OFFICE: [number, number] = [2 * H, 4 * H];
const HOLIDAY: [number, number] = [3 * H, 24 * H];
const GROUP_DOORS: Record<string, [string, string | null][]> = { staff: [['front', 'office']], security: [['front', null], ['lab', null]] };

const bound = fc.constantFrom(-Infinity, Infinity, ...TIMES, H / 2, 5.5 * H);
const span = fc.tuple(bound, bound).map(([a, b]) => ({ from: Math.min(a, b), to: Math.max(a, b) }));
const grant: fc.Arbitrary<GrantWindow> = fc.record({
  door: fc.constantFrom('front', 'lab', 'gone'),
  schedule: fc.constantFrom(null, 'office'),
  source: fc.constantFrom('booking' as const, 'staff' as const, 'subscription' as const),
}).chain((g) => span.map((s) => ({ ...g, ...s })));
const membership: fc.Arbitrary<Membership> = fc.constantFrom('staff', 'security', 'removed').chain((group) => span.map((s) => ({ group, ...s })));
const card = (n: string): fc.Arbitrary<CardInput> =>
  fc.record({ state: fc.constantFrom('active' as const, 'active' as const, 'disabled' as const, 'lost' as const), dated: fc.boolean(), s: span }).map(({ state, dated, s }) => ({
    number: n,
    active: state === 'active',
    state,
    ...(dated ? { validFrom: s.from, validTo: s.to } : {}),
  }));
const person = (id: number): fc.Arbitrary<PersonInput> =>
  fc.record({
    active: fc.boolean(),
    dated: fc.boolean(),
    validity: span,
    grants: fc.array(grant, { maxLength: 3 }),
    memberships: fc.array(membership, { maxLength: 2 }),
    cards: fc.tuple(card(`${id}01`), card(`${id}02`)).chain(([a, b]) => fc.constantFrom([a], [a, b], [] as CardInput[])),
  }).map(({ active, dated, validity, grants, memberships, cards }) => ({
    id,
    active,
    tokensValidAfter: 0,
    grants,
    memberships,
    cards,
    ...(dated ? { validFrom: validity.from, validTo: validity.to } : {}),
  }));
const step = fc.oneof(fc.integer({ min: 1, max: 4 }).chain((id) => person(id).map((put) => ({ put }))), fc.integer({ min: 1, max: 4 }).map((remove) => ({ remove })));

const inside = (s: { from: number; to: number }, at: number) => at >= s.from && at < s.to;
const open = (schedule: string | null | undefined, at: number) => schedule == null || inside({ from: OFFICE[0], to: OFFICE[1] }, at);

function reference(people: Map<number, PersonInput>, number: string, door: string, at: number, lockdown: boolean): { reason: Reason; source?: string } {
  if (!DOORS.includes(door)) return { reason: 'door_unknown' };
  const holder = [...people.values()].find((p) => p.cards.some((c) => c.number === number));
  const c = holder?.cards.find((x) => x.number === number);
  const overrides = holder?.memberships?.some((m) => m.group === 'security' && inside(m, at)) ?? false;
  if (lockdown && !overrides) return { reason: 'lockdown' };
  if (holder === undefined || c === undefined) return { reason: 'unknown_credential' };
  if (c.state === 'lost') return { reason: 'credential_lost' };
  if (c.state === 'disabled') return { reason: 'credential_disabled' };
  if (at < (c.validFrom ?? -Infinity)) return { reason: 'credential_not_yet_valid' };
  if (at >= (c.validTo ?? Infinity)) return { reason: 'credential_expired' };
  if (!holder.active) return { reason: 'person_suspended' };
  if (at < (holder.validFrom ?? -Infinity)) return { reason: 'person_not_yet_valid' };
  if (at >= (holder.validTo ?? Infinity)) return { reason: 'person_expired' };
  const windows = [
    ...holder.grants.map((g) => ({ ...g, source: g.source as string })),
    ...(holder.memberships ?? []).flatMap((m) => (m.to > m.from ? (GROUP_DOORS[m.group] ?? []).map(([d, schedule]) => ({ door: d, schedule, from: m.from, to: m.to, source: 'group' })) : [])),
  ].filter((w) => w.door === door);
  const granting = windows.find((w) => inside(w, at) && open(w.schedule, at));
  if (granting) return { reason: 'granted', source: granting.source };
  if (windows.some((w) => inside(w, at))) return { reason: inside({ from: HOLIDAY[0], to: HOLIDAY[1] }, at) ? 'holiday' : 'outside_schedule' };
  return { reason: windows.length > 0 ? 'outside_window' : 'no_grant' };
}

describe('the decision core against the rules written out', () => {
  it('agrees on every reason and source over random histories', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        const index = new AccessIndex({ hashSeed: 3 });
        index.setModel(model, new ListedSchedules({ office: [OFFICE] }, [HOLIDAY]));
        index.setDoors(DOORS);
        const people = new Map<number, PersonInput>();
        for (const s of steps) {
          if ('put' in s) {
            index.putPerson(s.put);
            people.set(s.put.id, s.put);
          } else {
            index.removePerson(s.remove);
            people.delete(s.remove);
          }
        }
        const contexts: [boolean, PolicyContext][] = [[false, { site: { lockdown: false } }], [true, { site: { lockdown: true } }]];
        for (const id of [1, 2, 3, 4, 5])
          for (const n of [`${id}01`, `${id}02`])
            for (const door of [...DOORS, 'vault'])
              for (const at of [...TIMES, H / 2, 5.5 * H])
                for (const [lockdown, ctx] of contexts) {
                  const got = decideCard(index, n, door, at, ctx);
                  const want = reference(people, n, door, at, lockdown);
                  expect({ reason: got.reason, ...(got.source ? { source: got.source } : {}) }, `${n} ${door} ${at} ${lockdown}`).toEqual(want);
                }
      }),
      { numRuns: 300 },
    );
  });
});
