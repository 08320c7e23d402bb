import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessIndex, type GrantWindow, type PersonInput } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import { compileGroups, expandMemberships } from '../../src/access/derive.js';
import type { AccessGroupDef, AccessModel, Membership } from '../../src/access/model.js';
import type { Reason } from '../../src/access/types.js';
import { ListedSchedules } from './test-schedules.js';

/*
 * Memberships on a site with more doors than a group key's door filter has bits (20: record-
 * layout.ts), so that doors share filter bits: a decision at a door whose bit a group's other
 * door set must still find that the group does not open it. Standing (unbounded) memberships
 * are held as one double, bounded ones with their bounds; both against the rules written out.
 */

const H = 3600_000;
const DOORS = Array.from({ length: 45 }, (_, i) => `d${i}`);
const TIMES = [0, 1, 2, 3, 4, 5].map((h) => h * H);
const OFFICE: [number, number] = [2 * H, 4 * H];
const inside = (s: { from: number; to: number }, at: number) => at >= s.from && at < s.to;

function modelOf(groups: { doors: string[]; office: boolean }[]): AccessModel {
  const defs: AccessGroupDef[] = groups.map((g, i) => ({ id: `g${i}`, zones: [{ zone: `z${i}`, schedule: g.office ? 'office' : null }], lockdownOverride: false, firstPersonIn: false }));
  return {
    timeZone: 'UTC',
    schedules: [{ id: 'office', weekly: [[], [], [], [], [], [], []], holiday: [] }],
    holidays: [],
    zones: groups.map((g, i) => ({ id: `z${i}`, doors: g.doors })),
    groups: defs,
    areas: [],
    doors: [],
  };
}

const states = () => new ListedSchedules({ office: [OFFICE] });

/** The window rules alone (everyone here is active, undated, with one active card). */
function reference(model: AccessModel, person: PersonInput, door: string, at: number): { reason: Reason; source?: string } {
  const groups = compileGroups(model, states());
  const windows = [
    ...person.grants.map((g) => ({ door: g.door, open: g.schedule == null || inside({ from: OFFICE[0], to: OFFICE[1] }, at), from: g.from, to: g.to, source: g.source as string })),
    ...expandMemberships(person.memberships ?? [], groups).map((w) => ({ door: w.door, open: w.slot === 0 || inside({ from: OFFICE[0], to: OFFICE[1] }, at), from: w.from, to: w.to, source: 'group' })),
  ].filter((w) => w.door === door);
  const granting = windows.find((w) => inside(w, at) && w.open);
  if (granting) return { reason: 'granted', source: granting.source };
  if (windows.some((w) => inside(w, at))) return { reason: 'outside_schedule' };
  return { reason: windows.length > 0 ? 'outside_window' : 'no_grant' };
}

const door = fc.constantFrom(...DOORS);
const bound = fc.constantFrom(-Infinity, Infinity, ...TIMES, 1.5 * H);
const span = fc.oneof(
  fc.constant({ from: -Infinity, to: Infinity }),
  fc.tuple(bound, bound).map(([a, b]) => ({ from: Math.min(a, b), to: Math.max(a, b) })),
);
const group = fc.record({ doors: fc.uniqueArray(door, { minLength: 1, maxLength: 4 }), office: fc.boolean() });
const grant: fc.Arbitrary<GrantWindow> = fc.record({ door, schedule: fc.constantFrom(null, 'office') }).chain((g) => span.map((s) => ({ ...g, ...s, source: 'booking' as const })));
const membership = (groups: number): fc.Arbitrary<Membership> => fc.integer({ min: 0, max: groups - 1 }).chain((g) => span.map((s) => ({ group: `g${g}`, ...s })));

describe('group memberships on a site with doors that share filter bits', () => {
  it('a group opens exactly its doors, never another door with the same filter bit', () => {
    const model = modelOf([{ doors: ['d3'], office: false }]);
    const index = new AccessIndex({ hashSeed: 5 });
    index.setModel(model, states());
    index.setDoors(DOORS);
    index.putPerson({ id: 1, active: true, tokensValidAfter: 0, grants: [], cards: [{ number: '101', active: true }], memberships: [{ group: 'g0', from: -Infinity, to: Infinity }] });
    const opened = DOORS.filter((d) => decideCard(index, '101', d, H).reason === 'granted');
    expect(opened).toEqual(['d3']);
    expect(index.personWindows(1)).toEqual([{ door: 'd3', from: -Infinity, to: Infinity, slot: 0, source: 'group' }]);
  });

  it('agrees with the rules written out over random groups, grants and memberships at every door', () => {
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 1, maxLength: 6 }).chain((groups) =>
          fc.tuple(fc.constant(groups), fc.array(fc.record({ grants: fc.array(grant, { maxLength: 2 }), memberships: fc.array(membership(groups.length), { maxLength: 3 }) }), { minLength: 1, maxLength: 3 })),
        ),
        ([groups, people]) => {
          const model = modelOf(groups);
          const index = new AccessIndex({ hashSeed: 7 });
          index.setModel(model, states());
          index.setDoors(DOORS);
          const inputs = people.map((p, i): PersonInput => ({ id: i + 1, active: true, tokensValidAfter: 0, cards: [{ number: `${i + 1}00`, active: true }], ...p }));
          // Put twice: a re-put frees the old record (its size must match what was allocated).
          for (const input of [...inputs, ...inputs]) index.putPerson(input);
          for (const input of inputs) {
            // As sets: the index keeps a window per membership, expandMemberships merges equal ones.
            const held = index.personWindows(input.id).filter((w) => w.source === 'group').map(({ door: d, slot, from, to }) => `${d} ${slot} ${from} ${to}`);
            const derived = expandMemberships(input.memberships ?? [], compileGroups(model, states())).map(({ door: d, slot, from, to }) => `${d} ${slot} ${from} ${to}`);
            expect(new Set(held)).toEqual(new Set(derived));
            for (const d of DOORS)
              for (const at of [...TIMES, 1.5 * H]) {
                const got = decideCard(index, `${input.id}00`, d, at);
                expect({ reason: got.reason, ...(got.source ? { source: got.source } : {}) }, `${input.id} ${d} ${at}`).toEqual(reference(model, input, d, at));
              }
          }
          expect(index.stats().grants).toBe(inputs.reduce((n, p) => n + p.grants.length + (p.memberships ?? []).filter((m) => m.to > m.from).length, 0));
          for (const input of inputs) index.removePerson(input.id);
          expect(index.stats()).toMatchObject({ people: 0, cards: 0, grants: 0 });
          expect(index.pool.inUse()).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
