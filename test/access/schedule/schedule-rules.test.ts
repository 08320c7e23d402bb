import { describe, expect, it } from 'vitest';
import type { DayInterval, HolidayDef, ScheduleDef } from '../../../src/access/model.js';
import { CompiledSchedules } from '../../../src/access/schedule/compiled-schedules.js';
import { NEXT_EDGE_HORIZON_DAYS, nextEdge, openAt } from '../../../src/access/schedule/schedule-time.js';

// The week of Monday 2026-11-23, in UTC so the rules read without offsets (DST: schedule-dst.test.ts).
const UTC = 'UTC';
const at = (iso: string): number => Date.parse(`${iso}:00Z`);
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
const DAY = 86_400_000;
const hm = (h: number, m = 0): number => h * 60 + m;

/** A schedule from a few weekdays (0 = Monday); the other days have no intervals. */
function schedule(days: Partial<Record<number, DayInterval[]>>, holiday: DayInterval[] = []): ScheduleDef {
  return { id: 'test', weekly: Array.from({ length: 7 }, (_, i) => days[i] ?? []), holiday };
}
const everyDay = (intervals: DayInterval[], holiday: DayInterval[] = []): ScheduleDef => schedule(Object.fromEntries([0, 1, 2, 3, 4, 5, 6].map((d) => [d, intervals])), holiday);

function states(def: ScheduleDef, holidays: HolidayDef[], times: string[]): Record<string, boolean> {
  return Object.fromEntries(times.map((t) => [t, openAt(def, holidays, UTC, at(t))]));
}

describe('schedule intervals', () => {
  it('an interval is half-open: open from `from`, closed at `to`; nextEdge names both ends', () => {
    const office = schedule({ 0: [{ from: hm(8), to: hm(18) }] });
    expect(states(office, [], ['2026-11-23T07:59', '2026-11-23T08:00', '2026-11-23T17:59', '2026-11-23T18:00'])).toEqual({
      '2026-11-23T07:59': false,
      '2026-11-23T08:00': true,
      '2026-11-23T17:59': true,
      '2026-11-23T18:00': false,
    });
    expect(iso(nextEdge(office, [], UTC, at('2026-11-23T03:00')))).toBe('2026-11-23T08:00');
    expect(iso(nextEdge(office, [], UTC, at('2026-11-23T08:00')))).toBe('2026-11-23T18:00');
    // Closed after Monday's end: the next opening is a week later.
    expect(iso(nextEdge(office, [], UTC, at('2026-11-23T18:00')))).toBe('2026-11-30T08:00');
  });

  it('several intervals a day, in any order; overlapping and touching ones are one open run', () => {
    const split = schedule({ 0: [{ from: hm(14), to: hm(18) }, { from: hm(8), to: hm(12) }, { from: hm(11), to: hm(13) }, { from: hm(13), to: hm(13, 30) }] });
    expect(iso(nextEdge(split, [], UTC, at('2026-11-23T09:00')))).toBe('2026-11-23T13:30');
    expect(openAt(split, [], UTC, at('2026-11-23T13:45'))).toBe(false);
    expect(iso(nextEdge(split, [], UTC, at('2026-11-23T13:45')))).toBe('2026-11-23T14:00');
  });

  it('`to <= from` crosses midnight and ends on the next day, whatever that day lists', () => {
    const night = schedule({ 4: [{ from: hm(22), to: hm(6) }] }); // Friday night into Saturday
    expect(states(night, [], ['2026-11-27T21:59', '2026-11-27T22:00', '2026-11-28T05:59', '2026-11-28T06:00'])).toEqual({
      '2026-11-27T21:59': false,
      '2026-11-27T22:00': true,
      '2026-11-28T05:59': true,
      '2026-11-28T06:00': false,
    });
    expect(iso(nextEdge(night, [], UTC, at('2026-11-27T23:00')))).toBe('2026-11-28T06:00');
    // from == to is 24 hours.
    const fullTurn = schedule({ 0: [{ from: hm(9), to: hm(9) }] });
    expect(openAt(fullTurn, [], UTC, at('2026-11-24T08:59'))).toBe(true);
    expect(iso(nextEdge(fullTurn, [], UTC, at('2026-11-23T10:00')))).toBe('2026-11-24T09:00');
  });

  it('24:00 is the end of the day: `to = 1440` and `to = 0` end at the same midnight; {0, 1440} is the whole day', () => {
    for (const to of [1440, 0]) {
      const evening = schedule({ 0: [{ from: hm(20), to }] });
      expect(iso(nextEdge(evening, [], UTC, at('2026-11-23T21:00'))), `to = ${to}`).toBe('2026-11-24T00:00');
      expect(openAt(evening, [], UTC, at('2026-11-24T00:00'))).toBe(false);
    }
    const allMonday = schedule({ 0: [{ from: 0, to: 1440 }] });
    expect(openAt(allMonday, [], UTC, at('2026-11-23T00:00'))).toBe(true);
    expect(openAt(allMonday, [], UTC, at('2026-11-22T23:59'))).toBe(false);
    expect(iso(nextEdge(allMonday, [], UTC, at('2026-11-23T00:00')))).toBe('2026-11-24T00:00');
    // Whole days back to back do not close at the midnight between them.
    const weekdays = schedule({ 0: [{ from: 0, to: 1440 }], 1: [{ from: 0, to: 1440 }], 2: [{ from: 0, to: 0 }] });
    expect(iso(nextEdge(weekdays, [], UTC, at('2026-11-23T10:00')))).toBe('2026-11-26T00:00');
  });
});

describe('holidays', () => {
  const office = everyDay([{ from: hm(8), to: hm(18) }]);

  it('a one-off holiday replaces the intervals that start on it by the holiday intervals', () => {
    const holidays = [{ name: 'works outing', date: '2026-11-25' }];
    expect(openAt(office, holidays, UTC, at('2026-11-25T09:00'))).toBe(false);
    expect(openAt(office, holidays, UTC, at('2026-11-24T09:00'))).toBe(true);
    expect(openAt(office, holidays, UTC, at('2032-11-25T09:00'))).toBe(true); // once only
    expect(iso(nextEdge(office, holidays, UTC, at('2026-11-24T18:00')))).toBe('2026-11-26T08:00');
    const shortDay = everyDay([{ from: hm(8), to: hm(18) }], [{ from: hm(10), to: hm(12) }]);
    expect(states(shortDay, holidays, ['2026-11-25T09:00', '2026-11-25T10:00', '2026-11-25T12:00'])).toEqual({
      '2026-11-25T09:00': false,
      '2026-11-25T10:00': true,
      '2026-11-25T12:00': false,
    });
  });

  it('a yearly holiday (MM-DD) comes back every year; 02-29 only in leap years', () => {
    const holidays = [{ name: 'Christmas', date: '12-25' }, { name: 'leap day', date: '02-29' }];
    expect(openAt(office, holidays, UTC, at('2026-12-25T09:00'))).toBe(false);
    expect(openAt(office, holidays, UTC, at('2027-12-25T09:00'))).toBe(false);
    expect(openAt(office, holidays, UTC, at('2026-12-24T09:00'))).toBe(true);
    expect(openAt(office, holidays, UTC, at('2028-02-29T09:00'))).toBe(false);
    expect(openAt(office, holidays, UTC, at('2027-03-01T09:00'))).toBe(true);
    expect(openAt(office, holidays, UTC, at('2028-03-01T09:00'))).toBe(true);
  });

  it('an interval that started the evening before a holiday runs to its end; the holiday has no start of its own', () => {
    const nightShift = everyDay([{ from: hm(22), to: hm(6) }]);
    const holidays = [{ name: 'national day', date: '2026-11-25' }];
    expect(openAt(nightShift, holidays, UTC, at('2026-11-25T05:00'))).toBe(true); // Tuesday's shift
    expect(iso(nextEdge(nightShift, holidays, UTC, at('2026-11-25T05:00')))).toBe('2026-11-25T06:00');
    expect(openAt(nightShift, holidays, UTC, at('2026-11-25T23:00'))).toBe(false); // Wednesday's is replaced
    expect(openAt(nightShift, holidays, UTC, at('2026-11-26T05:00'))).toBe(false);
    expect(iso(nextEdge(nightShift, holidays, UTC, at('2026-11-25T06:00')))).toBe('2026-11-26T22:00');
    const states = new CompiledSchedules({ timeZone: UTC, schedules: [nightShift], holidays });
    expect(states.isHoliday(at('2026-11-25T05:00'))).toBe(true);
    expect(states.isHoliday(at('2026-11-24T23:59'))).toBe(false);
  });

  it("a holiday's own interval may cross midnight into a regular day", () => {
    const closedWeek = schedule({}, [{ from: hm(20), to: hm(2) }]);
    const holidays = [{ name: 'new year', date: '12-31' }];
    expect(openAt(closedWeek, holidays, UTC, at('2027-01-01T01:00'))).toBe(true);
    expect(iso(nextEdge(closedWeek, holidays, UTC, at('2027-01-01T01:00')))).toBe('2027-01-01T02:00');
  });

  it('a schedule that only holidays change finds its next edge at the holiday, however far, and within the horizon otherwise', () => {
    const alwaysOpen = everyDay([{ from: 0, to: 1440 }]);
    expect(iso(nextEdge(alwaysOpen, [{ name: 'audit', date: '2028-06-01' }], UTC, at('2026-11-23T10:00')))).toBe('2028-06-01T00:00');
    // The day after a holiday that closes a back-to-back schedule: open again from its midnight.
    expect(iso(nextEdge(alwaysOpen, [{ name: 'audit', date: '2028-06-01' }], UTC, at('2028-06-01T10:00')))).toBe('2028-06-02T00:00');
    // A night-to-night schedule: the holiday's gap starts when the eve's interval ends.
    const noonToNoon = everyDay([{ from: hm(12), to: hm(12) }]);
    expect(iso(nextEdge(noonToNoon, [{ name: 'x', date: '12-24' }], UTC, at('2026-11-23T10:00')))).toBe('2026-12-24T12:00');
    const neverOpen = schedule({}, [{ from: hm(9), to: hm(10) }]);
    expect(iso(nextEdge(neverOpen, [{ name: 'open day', date: '05-01' }], UTC, at('2026-11-23T10:00')))).toBe('2027-05-01T09:00');
    const horizon = nextEdge(alwaysOpen, [], UTC, at('2026-11-23T10:00'));
    expect(horizon).toBeGreaterThanOrEqual(at('2026-11-23T10:00') + NEXT_EDGE_HORIZON_DAYS * DAY);
    expect(openAt(alwaysOpen, [], UTC, horizon)).toBe(true);
    expect(nextEdge(neverOpen, [], UTC, at('2026-11-23T10:00'))).toBeGreaterThanOrEqual(at('2026-11-23T10:00') + NEXT_EDGE_HORIZON_DAYS * DAY);
  });
});

describe('malformed input is refused with the path of the field', () => {
  it('holiday dates, interval minutes and the week length', () => {
    const office = everyDay([{ from: hm(8), to: hm(18) }]);
    const open = (holidays: HolidayDef[], def = office) => () => new CompiledSchedules({ timeZone: UTC, schedules: [def], holidays });
    expect(open([{ name: 'a', date: '2026-02-30' }])).toThrow('holidays[0].date: no such date: 2026-02-30');
    expect(open([{ name: 'a', date: '12-25' }, { name: 'b', date: '13-01' }])).toThrow('holidays[1].date: no such date: 13-01');
    expect(open([{ name: 'a', date: 'tomorrow' }])).toThrow('holidays[0].date: expected YYYY-MM-DD or MM-DD, got "tomorrow"');
    expect(open([], schedule({ 2: [{ from: 60, to: 1500 }] }))).toThrow('schedules[0].weekly[2][0].to: expected a whole minute 0–1440, got 1500');
    expect(open([], { id: 'short', weekly: [[], [], []], holiday: [] })).toThrow('schedules[0].weekly: expected 7 days (Monday first), got 3');
    expect(() => new CompiledSchedules({ timeZone: 'Mars/Olympus', schedules: [], holidays: [] })).toThrow('timeZone: not an IANA time zone: "Mars/Olympus"');
    expect(() => new CompiledSchedules({ timeZone: UTC, schedules: [office, office], holidays: [] })).toThrow('schedules[1].id: duplicate schedule "test"');
  });
});
