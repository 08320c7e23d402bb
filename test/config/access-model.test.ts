import { afterEach, describe, expect, it } from 'vitest';
import { accessModelOf, resourceDoors } from '../../src/config/access-model.js';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { resourceDoorMap, syncFromConfig } from '../../src/store/doors.js';
import { testStore } from '../helpers/store.js';

/* The YAML compiled into the core's AccessModel, and the doors a booking of a resource opens. */

const doc = {
  site: { id: 'hq', timeZone: 'Europe/Berlin' },
  doors: [
    { id: 'front', mode: 'scheduled-unlock', unlockSchedule: 'lobby-hours', firstPersonIn: true },
    { id: 'side' },
    { id: 'lab', mode: 'card' },
  ],
  readers: [
    { id: 'front-in', kind: 'stdin', door: 'front' },
    { id: 'front-out', kind: 'stdin', door: 'front', direction: 'out' },
  ],
  schedules: {
    'office-hours': { weekly: { 'mon-fri': ['12:00-19:00', '07:00-11:00'], sat: ['09:00-13:00'] } },
    nights: { weekly: { 'fri-mon': ['22:00-06:00'] }, holidays: ['20:00-24:00'] },
    'lobby-hours': { weekly: { mon: ['08:00-12:00'] } },
  },
  holidays: [{ name: 'New Year', date: '01-01' }, { name: 'Move day', date: '2027-03-05' }],
  zones: { lobby: { doors: ['front', 'side'] }, lab: { doors: ['lab'] } },
  accessGroups: {
    staff: { zones: [{ zone: 'lobby', schedule: 'office-hours' }, { zone: 'lab' }], firstPersonIn: true },
    security: { zones: [{ zone: 'lobby' }], lockdownOverride: true },
  },
  areas: { building: { in: ['front-in'], out: ['front-out'], antiPassback: 'soft', resetAt: '03:00' }, hall: { in: ['front-in'] } },
  resources: [
    { id: 'R-1', doors: ['lab'] },
    { id: 'R-2', doors: ['lab', 'side'], accessGroups: ['staff'] },
    { id: 'R-3', accessGroups: ['security'] },
  ],
};
const config = parseConfig(doc, 'x.yaml', '/');

describe('accessModelOf', () => {
  it('compiles schedules to seven days of minutes, Monday first, each day sorted', () => {
    const model = accessModelOf(config);
    const office = model.schedules.find((s) => s.id === 'office-hours')!;
    const weekday = [{ from: 420, to: 660 }, { from: 720, to: 1140 }];
    expect(office.weekly).toEqual([weekday, weekday, weekday, weekday, weekday, [{ from: 540, to: 780 }], []]);
    expect(office.holiday).toEqual([]);
    const nights = model.schedules.find((s) => s.id === 'nights')!;
    const night = [{ from: 1320, to: 360 }];
    expect(nights.weekly).toEqual([night, [], [], [], night, night, night]);
    expect(nights.holiday).toEqual([{ from: 1200, to: 1440 }]);
  });

  it('carries the zone, holidays, groups with their defaults, areas and door policies', () => {
    const model = accessModelOf(config);
    expect(model.timeZone).toBe('Europe/Berlin');
    expect(model.holidays).toEqual([{ name: 'New Year', date: '01-01' }, { name: 'Move day', date: '2027-03-05' }]);
    expect(model.zones).toEqual([{ id: 'lobby', doors: ['front', 'side'] }, { id: 'lab', doors: ['lab'] }]);
    expect(model.groups).toEqual([
      { id: 'staff', zones: [{ zone: 'lobby', schedule: 'office-hours' }, { zone: 'lab', schedule: null }], lockdownOverride: false, firstPersonIn: true },
      { id: 'security', zones: [{ zone: 'lobby', schedule: null }], lockdownOverride: true, firstPersonIn: false },
    ]);
    expect(model.areas).toEqual([
      { id: 'building', inReaders: ['front-in'], outReaders: ['front-out'], antiPassback: 'soft', resetAt: 180 },
      { id: 'hall', inReaders: ['front-in'], outReaders: [], antiPassback: 'off', resetAt: null },
    ]);
    expect(model.doors).toEqual([
      { id: 'front', mode: 'scheduled-unlock', unlockSchedule: 'lobby-hours', firstPersonIn: true },
      { id: 'side', mode: 'card', unlockSchedule: null, firstPersonIn: false },
      { id: 'lab', mode: 'card', unlockSchedule: null, firstPersonIn: false },
    ]);
  });

  it('gives a config without a model an empty one with every door a card door', () => {
    const model = accessModelOf(parseConfig({ site: { id: 'hq', timeZone: 'UTC' }, doors: [{ id: 'front' }] }, 'x', '/'));
    expect(model).toEqual({ timeZone: 'UTC', schedules: [], holidays: [], zones: [], groups: [], areas: [], doors: [{ id: 'front', mode: 'card', unlockSchedule: null, firstPersonIn: false }] });
  });

  it('compiles the shipped example', () => {
    const model = accessModelOf(loadConfigFile('examples/access-model.yaml'));
    expect(model.groups.map((g) => g.id)).toEqual(['staff', 'cleaners', 'security', 'guests']);
    expect(model.schedules.find((s) => s.id === 'night-cleaning')!.weekly[0]).toEqual([{ from: 1320, to: 120 }]);
  });
});

describe('resourceDoors', () => {
  it("is the resource's doors and its groups' zones' doors, sorted, each once; the groups' schedules do not narrow it", () => {
    expect(resourceDoors(config, 'R-1')).toEqual(['lab']);
    expect(resourceDoors(config, 'R-2')).toEqual(['front', 'lab', 'side']);
    expect(resourceDoors(config, 'R-3')).toEqual(['front', 'side']);
    expect(resourceDoors(config, config.resources[2]!)).toEqual(['front', 'side']);
    expect(resourceDoors(config, 'R-404')).toEqual([]);
  });
});

describe('syncFromConfig with access groups', () => {
  const closers: Array<() => void> = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it('writes each resource with its groups\' doors to SQLite and reports the resources a zone change moved', () => {
    const { store, close } = testStore([]);
    closers.push(close);
    expect(syncFromConfig(store, config)).toEqual(['R-1', 'R-2', 'R-3']);
    expect(Object.fromEntries(resourceDoorMap(store.db))).toEqual({ 'R-1': ['lab'], 'R-2': ['front', 'lab', 'side'], 'R-3': ['front', 'side'] });

    const moved = parseConfig({ ...doc, zones: { ...doc.zones, lobby: { doors: ['front'] } } }, 'x.yaml', '/');
    // R-2 still reaches side through its own doors; only R-3 loses it.
    expect(syncFromConfig(store, moved)).toEqual(['R-3']);
    expect(resourceDoorMap(store.db).get('R-3')).toEqual(['front']);
  });
});
