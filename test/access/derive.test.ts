import { describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { compileGroups, expandMemberships, modelHash, privilegesOf } from '../../src/access/derive.js';
import type { AccessModel } from '../../src/access/model.js';
import { ListedSchedules } from './test-schedules.js';

/* Memberships → windows, without an index or a database (src/access/derive.ts). */

const T0 = Date.parse('2026-12-02T00:00:00Z');
const D = 86_400_000;

const model: AccessModel = {
  timeZone: 'Europe/Berlin',
  schedules: [
    { id: 'office', weekly: [[{ from: 420, to: 1140 }], [], [], [], [], [], []], holiday: [] },
    { id: 'night', weekly: [[{ from: 1320, to: 360 }], [], [], [], [], [], []], holiday: [] },
  ],
  holidays: [],
  zones: [
    { id: 'lobby', doors: ['front', 'side'] },
    { id: 'lab', doors: ['lab'] },
    { id: 'also-front', doors: ['front'] },
  ],
  groups: [
    { id: 'staff', zones: [{ zone: 'lobby', schedule: 'office' }, { zone: 'lab', schedule: null }, { zone: 'also-front', schedule: 'office' }], lockdownOverride: false, firstPersonIn: false },
    { id: 'guards', zones: [{ zone: 'lobby', schedule: 'night' }], lockdownOverride: true, firstPersonIn: false },
    { id: 'managers', zones: [{ zone: 'lobby', schedule: 'office' }], lockdownOverride: false, firstPersonIn: true },
  ],
  areas: [],
  doors: [],
};
const states = new ListedSchedules({ office: [], night: [] });
const groups = compileGroups(model, states);

describe('expandMemberships', () => {
  it('opens every door of every zone of the group, each with its zone schedule, within the membership bounds', () => {
    const windows = expandMemberships([{ group: 'staff', from: T0, to: T0 + 30 * D }], groups);
    expect(windows).toEqual([
      { door: 'front', slot: 1, from: T0, to: T0 + 30 * D },
      { door: 'side', slot: 1, from: T0, to: T0 + 30 * D },
      { door: 'lab', slot: 0, from: T0, to: T0 + 30 * D },
      // also-front reaches front under the same schedule: one window, not two
    ]);
  });

  it('keeps one window per door and schedule when two groups reach it; different schedules stay apart', () => {
    const open = { from: -Infinity, to: Infinity };
    const windows = expandMemberships(
      [
        { group: 'staff', ...open },
        { group: 'managers', ...open },
        { group: 'guards', ...open },
      ],
      groups,
    );
    expect(windows.filter((w) => w.door === 'front')).toEqual([
      { door: 'front', slot: 1, ...open },
      { door: 'front', slot: 2, ...open },
    ]);
    expect(windows).toHaveLength(5);
  });

  it('a group the model no longer has, or an empty membership, opens nothing', () => {
    expect(expandMemberships([{ group: 'removed', from: -Infinity, to: Infinity }], groups)).toEqual([]);
    expect(expandMemberships([{ group: 'staff', from: T0, to: T0 }], groups)).toEqual([]);
    expect(expandMemberships([{ group: 'staff', from: NaN, to: T0 }], groups)).toEqual([]);
  });

  it('two memberships of one group with other bounds are two sets of windows (a renewal beside the old one)', () => {
    const windows = expandMemberships(
      [
        { group: 'guards', from: T0, to: T0 + D },
        { group: 'guards', from: T0 + D, to: T0 + 2 * D },
      ],
      groups,
    );
    expect(windows.map((w) => [w.door, w.from])).toEqual([
      ['front', T0],
      ['side', T0],
      ['front', T0 + D],
      ['side', T0 + D],
    ]);
  });
});

describe('privilegesOf and modelHash', () => {
  it('only groups with a privilege give a span, bounded like the membership', () => {
    expect(
      privilegesOf(
        [
          { group: 'staff', from: -Infinity, to: Infinity },
          { group: 'guards', from: T0, to: T0 + D },
          { group: 'managers', from: -Infinity, to: T0 },
        ],
        groups,
      ),
    ).toEqual([
      { from: T0, to: T0 + D, lockdownOverride: true, firstPersonIn: false },
      { from: -Infinity, to: T0, lockdownOverride: false, firstPersonIn: true },
    ]);
  });

  it('a model hash tells models apart and is stable for equal models', () => {
    expect(modelHash(model)).toBe(modelHash(structuredClone(model)));
    expect(modelHash(model)).not.toBe(modelHash({ ...model, zones: [...model.zones, { id: 'x', doors: ['front'] }] }));
    expect(modelHash(model)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('the index holds what expandMemberships derives', () => {
  it('one window per membership in the record, told back as the derived windows', () => {
    const index = new AccessIndex();
    index.setModel(model, states);
    index.setDoors(['front', 'side', 'lab']);
    const memberships = [
      { group: 'staff', from: T0, to: T0 + 30 * D },
      { group: 'guards', from: -Infinity, to: Infinity },
      { group: 'removed', from: -Infinity, to: Infinity },
    ];
    index.putPerson({ id: 1, active: true, tokensValidAfter: 0, grants: [], cards: [{ number: '1001', active: true }], memberships });
    const held = index.personWindows(1).map(({ door, slot, from, to }) => ({ door, slot, from, to }));
    expect(held).toEqual(expandMemberships(memberships, groups));
    expect(index.stats().grants).toBe(2); // two windows in the record: one a known group
  });
});
