import { describe, expect, it } from 'vitest';
import { accessModelOf } from '../../src/config/access-model.js';
import { accessReportAt, formatAccessReport } from '../../src/config/access-report.js';
import { parseConfig } from '../../src/config/load.js';
import { localTimeAt, scheduleStateAt } from '../../src/config/schedule-now.js';

/* "Open now" as check-config computes it: wall-clock minutes in the site's zone, across midnight, holidays and DST. */

const at = (isoWithOffset: string) => Date.parse(isoWithOffset);

function modelWith(schedules: Record<string, unknown>, holidays: unknown[] = [], extra: Record<string, unknown> = {}) {
  return accessModelOf(parseConfig({ site: { id: 'hq', timeZone: 'Europe/Berlin' }, doors: [{ id: 'front' }, { id: 'lab' }], schedules, holidays, ...extra }, 'x', '/'));
}

function openAt(model: ReturnType<typeof modelWith>, id: string, when: string): boolean {
  return scheduleStateAt(model.schedules.find((s) => s.id === id)!, model.holidays, model.timeZone, at(when)).open;
}

describe('localTimeAt', () => {
  it('gives the date, Monday-first weekday and minute in the zone, not in UTC', () => {
    expect(localTimeAt(at('2026-12-31T23:30:00Z'), 'Europe/Berlin')).toEqual({ date: '2027-01-01', weekday: 4, minute: 30 });
    expect(localTimeAt(at('2026-12-31T23:30:00Z'), 'UTC')).toEqual({ date: '2026-12-31', weekday: 3, minute: 1410 });
    expect(localTimeAt(at('2026-12-06T23:59:00+01:00'), 'Europe/Berlin')).toEqual({ date: '2026-12-06', weekday: 6, minute: 1439 });
  });
});

describe('scheduleStateAt', () => {
  const model = modelWith({ office: { weekly: { 'mon-fri': ['07:00-19:00'] } }, late: { weekly: { 'mon-sun': ['22:00-06:00'] } } }, [{ name: 'New Year', date: '01-01' }]);

  it('opens from the start, inclusive, to the end, exclusive', () => {
    expect(openAt(model, 'office', '2026-12-02T06:59:00+01:00')).toBe(false);
    expect(openAt(model, 'office', '2026-12-02T07:00:00+01:00')).toBe(true);
    expect(openAt(model, 'office', '2026-12-02T18:59:59+01:00')).toBe(true);
    expect(openAt(model, 'office', '2026-12-02T19:00:00+01:00')).toBe(false);
    expect(openAt(model, 'office', '2026-12-05T10:00:00+01:00')).toBe(false); // a Saturday
  });

  it('runs an interval past midnight to its end on the next day', () => {
    expect(openAt(model, 'late', '2026-12-02T21:59:00+01:00')).toBe(false);
    expect(openAt(model, 'late', '2026-12-02T23:00:00+01:00')).toBe(true);
    expect(openAt(model, 'late', '2026-12-03T05:59:00+01:00')).toBe(true);
    expect(openAt(model, 'late', '2026-12-03T06:00:00+01:00')).toBe(false);
  });

  it('replaces the intervals starting on a holiday, and lets the one begun the evening before run out', () => {
    expect(openAt(model, 'late', '2027-01-01T05:00:00+01:00')).toBe(true); // began on 31 December
    expect(openAt(model, 'late', '2027-01-01T22:30:00+01:00')).toBe(false);
    expect(openAt(model, 'late', '2027-01-02T03:00:00+01:00')).toBe(false);
    expect(openAt(model, 'office', '2027-01-01T10:00:00+01:00')).toBe(false); // a Friday
    const state = scheduleStateAt(model.schedules[0]!, model.holidays, model.timeZone, at('2027-01-01T10:00:00+01:00'));
    expect(state).toEqual({ open: false, interval: null, holiday: 'New Year' });
  });

  it("opens a schedule's holiday intervals on a one-off holiday", () => {
    const m = modelWith({ office: { weekly: { 'mon-fri': ['07:00-19:00'] }, holidays: ['09:00-12:00'] } }, [{ name: 'Move day', date: '2027-03-05' }]);
    expect(openAt(m, 'office', '2027-03-05T08:00:00+01:00')).toBe(false);
    expect(openAt(m, 'office', '2027-03-05T11:00:00+01:00')).toBe(true);
    expect(openAt(m, 'office', '2028-03-06T08:00:00+01:00')).toBe(true); // a Monday, and not the holiday
  });

  it('is exact across DST: the skipped hour never opens, a repeated interval opens on its first pass only', () => {
    const m = modelWith({ skipped: { weekly: { sun: ['02:00-03:00'] } }, early: { weekly: { sun: ['01:30-02:30'] } }, repeated: { weekly: { sun: ['02:00-02:30'] } } });
    // 28 March 2027, Europe/Berlin: 01:59 CET is followed by 03:00 CEST.
    expect(openAt(m, 'skipped', '2027-03-28T00:59:00Z')).toBe(false);
    expect(openAt(m, 'skipped', '2027-03-28T01:00:00Z')).toBe(false);
    expect(openAt(m, 'early', '2027-03-28T00:59:00Z')).toBe(true);
    expect(openAt(m, 'early', '2027-03-28T01:00:00Z')).toBe(false);
    // 25 October 2026: 02:00–03:00 happens twice, at 00:00Z (CEST) and 01:00Z (CET). An interval
    // ends at the first instant the wall clock reads its end (src/access/schedule/schedule-time.ts),
    // so 02:00–02:30 is the first half hour, once: the decisions and this report agree.
    expect(openAt(m, 'repeated', '2026-10-25T00:15:00Z')).toBe(true);
    expect(openAt(m, 'repeated', '2026-10-25T00:45:00Z')).toBe(false);
    expect(openAt(m, 'repeated', '2026-10-25T01:15:00Z')).toBe(false);
    expect(openAt(m, 'repeated', '2026-10-25T01:45:00Z')).toBe(false);
  });
});

describe('accessReportAt', () => {
  const extra = {
    doors: [{ id: 'front', mode: 'scheduled-unlock', unlockSchedule: 'office' }, { id: 'lab' }, { id: 'side', mode: 'scheduled-unlock', unlockSchedule: 'late', firstPersonIn: true }],
    zones: { lobby: { doors: ['front', 'side'] }, lab: { doors: ['lab'] } },
    accessGroups: {
      staff: { zones: [{ zone: 'lobby', schedule: 'office' }, { zone: 'lobby', schedule: 'late' }, { zone: 'lab' }], firstPersonIn: true },
      cleaners: { zones: [{ zone: 'lab', schedule: 'late' }], lockdownOverride: true },
    },
  };
  const model = modelWith({ office: { weekly: { 'mon-fri': ['07:00-19:00'] } }, late: { weekly: { 'mon-sun': ['22:00-06:00'] } } }, [{ name: 'New Year', date: '01-01' }], extra);

  it('lists each group with its doors, open through any of their routes, at the instant given', () => {
    const r = accessReportAt(model, at('2026-12-02T10:00:00+01:00'));
    expect(r).toMatchObject({ timeZone: 'Europe/Berlin', localTime: '2026-12-02 10:00', weekday: 'wed', holiday: null });
    expect(r.groups[0]).toEqual({
      id: 'staff',
      lockdownOverride: false,
      firstPersonIn: true,
      doors: [
        {
          door: 'front',
          openNow: true,
          via: [
            { zone: 'lobby', schedule: 'office', open: true, interval: '07:00-19:00' },
            { zone: 'lobby', schedule: 'late', open: false, interval: null },
          ],
        },
        expect.objectContaining({ door: 'side', openNow: true }),
        { door: 'lab', openNow: true, via: [{ zone: 'lab', schedule: null, open: true, interval: null }] },
      ],
    });
    expect(r.groups[1]).toMatchObject({ id: 'cleaners', lockdownOverride: true, doors: [{ door: 'lab', openNow: false }] });
    expect(r.scheduledDoors).toEqual([
      { door: 'front', schedule: 'office', scheduleOpen: true, interval: '07:00-19:00', firstPersonIn: false },
      { door: 'side', schedule: 'late', scheduleOpen: false, interval: null, firstPersonIn: true },
    ]);
  });

  it('prints one line for the clock, then each group and door, then the scheduled doors', () => {
    expect(formatAccessReport(accessReportAt(model, at('2027-01-01T01:00:00+01:00')))).toEqual([
      'time zone Europe/Berlin: now Fri 2027-01-01 01:00 (holiday: New Year)',
      'access group staff (first person in): 3 doors',
      '  front  open now    lobby on office; lobby on late 22:00-06:00',
      '  side   open now    lobby on office; lobby on late 22:00-06:00',
      '  lab    open now    lab at any time',
      'access group cleaners (lockdown override): 1 door',
      '  lab    open now    lab on late 22:00-06:00',
      'doors unlocked on a schedule:',
      '  front  locked now    on office',
      '  side   in hours now  on late 22:00-06:00, unlocks once a first-person-in member badges',
    ]);
  });

  it('prints only the clock for a site without groups or scheduled doors', () => {
    expect(formatAccessReport(accessReportAt(modelWith({}), at('2026-12-02T10:00:00Z')))).toEqual(['time zone Europe/Berlin: now Wed 2026-12-02 11:00']);
  });
});
