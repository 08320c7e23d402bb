import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.js';
import { hostTimeZone } from '../../src/config/model-schema.js';
import { tempDir } from '../helpers/tmp.js';

/* The access model's YAML sections: every mistake an operator can make fails with its path and a message saying what is wrong. */

const base = {
  site: { id: 'hq', timeZone: 'Europe/Berlin' },
  doors: [{ id: 'front' }, { id: 'side' }, { id: 'lab' }],
  readers: [
    { id: 'front-in', kind: 'stdin', door: 'front' },
    { id: 'front-out', kind: 'stdin', door: 'front', direction: 'out' },
  ],
  schedules: { 'office-hours': { weekly: { 'mon-fri': ['07:00-19:00'], sat: ['09:00-13:00'] } } },
  zones: { lobby: { doors: ['front', 'side'] }, lab: { doors: ['lab'] } },
  accessGroups: { staff: { zones: [{ zone: 'lobby', schedule: 'office-hours' }, { zone: 'lab' }] } },
};

function problemsOf(over: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...base, ...over }, 'site.yaml', '/');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('access model configuration', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((c) => c()));

  it('accepts the model and fills its defaults', () => {
    const cfg = parseConfig(base, 'site.yaml', '/');
    expect(cfg.site.timeZone).toBe('Europe/Berlin');
    expect(cfg.schedules['office-hours']).toEqual({ weekly: { 'mon-fri': ['07:00-19:00'], sat: ['09:00-13:00'] }, holidays: [] });
    expect(cfg.accessGroups.staff).toEqual({ zones: [{ zone: 'lobby', schedule: 'office-hours' }, { zone: 'lab' }], lockdownOverride: false, firstPersonIn: false });
    expect(cfg.holidays).toEqual([]);
    expect(cfg.areas).toEqual({});
  });

  it('keeps a file without any of it valid, reading schedules in the host zone', () => {
    const cfg = parseConfig({ site: { id: 'hq' }, doors: [{ id: 'front' }], resources: [{ id: 'R-1', doors: ['front'] }] }, 'x.yaml', '/');
    expect(cfg.site.timeZone).toBe(hostTimeZone());
    expect(cfg.resources[0]).toEqual({ id: 'R-1', doors: ['front'] });
    expect([cfg.schedules, cfg.zones, cfg.accessGroups, cfg.areas, cfg.holidays]).toEqual([{}, {}, {}, {}, []]);
  });

  it('validates site.timeZone against Intl and stores its canonical name', () => {
    expect(problemsOf({ site: { id: 'hq', timeZone: 'Europe/Berln' } })).toEqual([
      'site.timeZone: unknown time zone "Europe/Berln": an IANA name such as Europe/Berlin or UTC',
    ]);
    expect(parseConfig({ ...base, site: { id: 'hq', timeZone: 'europe/berlin' } }, 'x', '/').site.timeZone).toBe('Europe/Berlin');
  });

  it('refuses bad intervals, overlapping ones, unknown days and a day given twice', () => {
    const problems = problemsOf({
      schedules: {
        ...base.schedules,
        a: { weekly: { mon: ['7:00-19:00', '08:00-08:00', '19:00-25:00'], 'tue-thu': ['09:00-17:00', '12:00-13:00'], wed: ['01:00-02:00'], funday: [] } },
        b: { weekly: {}, holidays: ['24:00-01:00'] },
      },
    });
    const hint = 'is not HH:MM-HH:MM (from 00:00–23:59, to up to 24:00; an end at or before the start runs past midnight)';
    expect(problems).toEqual(
      expect.arrayContaining([
        `schedules.a.weekly.mon[0]: "7:00-19:00" ${hint}`,
        `schedules.a.weekly.mon[1]: "08:00-08:00" ${hint}`,
        `schedules.a.weekly.mon[2]: "19:00-25:00" ${hint}`,
        'schedules.a.weekly.tue-thu[1]: "12:00-13:00" overlaps "09:00-17:00"',
        'schedules.a.weekly.wed: wed is already given by "tue-thu"',
        'schedules.a.weekly.funday: unknown day "funday": mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri',
        `schedules.b.holidays[0]: "24:00-01:00" ${hint}`,
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('counts an interval that crosses midnight as running to its end when checking overlaps', () => {
    expect(problemsOf({ schedules: { ...base.schedules, night: { weekly: { fri: ['22:00-06:00', '23:00-23:30'] } } } })).toEqual([
      'schedules.night.weekly.fri[1]: "23:00-23:30" overlaps "22:00-06:00"',
    ]);
    expect(problemsOf({ schedules: { ...base.schedules, night: { weekly: { 'fri-mon': ['22:00-06:00'], tue: ['00:00-24:00'] } } } })).toEqual([]);
  });

  it('refuses ids that are not ids, as keys of every section', () => {
    expect(problemsOf({ zones: { 'my lobby': { doors: ['front'] } }, accessGroups: {} })).toEqual([
      'zones.my lobby: "my lobby" is not an id: letters, digits, "_", "." and "-" only (used in MQTT topics), at most 64',
    ]);
  });

  it('names unknown doors, zones, schedules and groups, and ids listed twice', () => {
    const problems = problemsOf({
      zones: { lobby: { doors: ['front', 'sid', 'front'] }, lab: { doors: ['lab'] } },
      accessGroups: {
        staff: { zones: [{ zone: 'lobbby', schedule: 'office-hours' }, { zone: 'lab', schedule: 'office' }, { zone: 'lab', schedule: 'office' }] },
      },
      resources: [{ id: 'R-1', accessGroups: ['staff', 'guests'] }, { id: 'R-2', doors: ['front'], accessGroups: ['staff', 'staff'] }],
    });
    expect(problems).toEqual([
      'zones.lobby.doors[1]: unknown door "sid"',
      'zones.lobby.doors[2]: door "front" is listed twice',
      'accessGroups.staff.zones[0].zone: unknown zone "lobbby"',
      'accessGroups.staff.zones[1].schedule: unknown schedule "office"',
      'accessGroups.staff.zones[2].schedule: unknown schedule "office"',
      'accessGroups.staff.zones[2]: zone "lab" is listed twice on schedule "office"',
      'resources[0].accessGroups[1]: unknown access group "guests"',
      'resources[1].accessGroups[1]: access group "staff" is listed twice',
    ]);
  });

  it('needs a resource to name doors, accessGroups or both', () => {
    expect(problemsOf({ resources: [{ id: 'R-1' }, { id: 'R-2', doors: [], accessGroups: [] }, { id: 'R-3', accessGroups: ['staff'] }] })).toEqual([
      'resources[0]: give doors, accessGroups or both',
      'resources[1]: give doors, accessGroups or both',
    ]);
  });

  it('needs a zone to hold a door and a group to name a zone', () => {
    expect(problemsOf({ zones: { lobby: { doors: [] }, lab: { doors: ['lab'] } }, accessGroups: { staff: { zones: [] } } })).toEqual([
      'zones.lobby.doors: Too small: expected array to have >=1 items',
      'accessGroups.staff.zones: Too small: expected array to have >=1 items',
    ]);
  });

  it('refuses holiday dates that do not exist and a date given twice', () => {
    const problems = problemsOf({
      holidays: [
        { name: 'New Year', date: '01-01' },
        { name: 'Leap day', date: '02-29' },
        { name: 'Not a day', date: '2027-02-29' },
        { name: 'Typo', date: '1-1' },
        { name: 'New Year again', date: '01-01' },
      ],
    });
    expect(problems).toEqual([
      'holidays[2].date: "2027-02-29" is not a date: YYYY-MM-DD once, or MM-DD every year',
      'holidays[3].date: "1-1" is not a date: YYYY-MM-DD once, or MM-DD every year',
      'holidays[4].date: duplicate holiday date "01-01" (also "New Year")',
    ]);
  });

  it('checks an area: known readers, none in both lists, a real reset time', () => {
    const problems = problemsOf({
      areas: { building: { in: ['front-in', 'back-in'], out: ['front-out', 'front-in'], antiPassback: 'soft', resetAt: '3:00' } },
    });
    expect(problems).toEqual([
      'areas.building.resetAt: "3:00" is not HH:MM (00:00–23:59)',
      'areas.building.in[1]: unknown reader "back-in"',
      'areas.building.out[1]: reader "front-in" is also an in reader of this area',
    ]);
    expect(problemsOf({ areas: { yard: { in: [], antiPassback: 'strict' } } })).toEqual([
      'areas.yard.in: Too small: expected array to have >=1 items',
      'areas.yard.antiPassback: Invalid option: expected one of "off"|"soft"|"hard"',
    ]);
  });

  it('fits a door mode to its unlock schedule and first-person-in', () => {
    const problems = problemsOf({
      doors: [
        { id: 'front', mode: 'scheduled-unlock' },
        { id: 'side', unlockSchedule: 'office-hours', firstPersonIn: true },
        { id: 'lab', mode: 'scheduled-unlock', unlockSchedule: 'nights' },
      ],
    });
    expect(problems).toEqual([
      'doors[0].unlockSchedule: a scheduled-unlock door needs unlockSchedule',
      'doors[1].unlockSchedule: only a scheduled-unlock door has an unlockSchedule (set mode: scheduled-unlock)',
      'doors[1].firstPersonIn: only a scheduled-unlock door waits for a first person in',
      'doors[2].unlockSchedule: unknown schedule "nights"',
    ]);
  });

  it('refuses a first-person-in door no first-person-in group can open (it would never unlock)', () => {
    const door = { id: 'front', mode: 'scheduled-unlock', unlockSchedule: 'office-hours', firstPersonIn: true };
    expect(problemsOf({ doors: [door, { id: 'side' }, { id: 'lab' }] })).toEqual([
      'doors[0].firstPersonIn: no access group with firstPersonIn opens this door, so its scheduled unlock would never start',
    ]);
    const groups = { staff: { ...base.accessGroups.staff, firstPersonIn: true } };
    expect(problemsOf({ doors: [door, { id: 'side' }, { id: 'lab' }], accessGroups: groups })).toEqual([]);
  });

  it('refuses an unknown key with "did you mean" and a duplicate id as the YAML duplicate key it is', () => {
    expect(problemsOf({ accessGroups: { staff: { zones: [{ zone: 'lab' }], lockdownOveride: true } } })).toEqual([
      'accessGroups.staff.lockdownOveride: unknown key, did you mean "lockdownOverride"?',
    ]);
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const file = join(dir, 'lintel.yaml');
    writeFileSync(file, ['site: { id: hq }', 'doors: [{ id: front }]', 'zones:', '  lobby: { doors: [front] }', '  lobby: { doors: [front] }', ''].join('\n'));
    expect(() => loadConfigFile(file)).toThrow(/YAML: Map keys must be unique at line 5/);
  });
});
