import type { DayInterval, HolidayDef, ScheduleDef } from '../access/model.js';
import { openAt } from '../access/schedule/schedule-time.js';
import { civilFromDays, DAY_MS, daysFromCivil, localMsOf, MINUTE_MS, weekdayOfDay } from '../util/zoned-time.js';
import { formatClock } from './time-of-day.js';

/*
 * What `lintel check-config` prints as "open now": whether a schedule is open at one instant
 * (answered by src/access/schedule/, the same rules the decisions use, DST included) and which
 * interval holds it open, for the operator to read. The labelling reads wall-clock minutes: it
 * only names the interval, it never decides.
 */

export interface LocalTime {
  /** "2026-12-24" */
  readonly date: string;
  /** Monday = 0 … Sunday = 6 (model.ts weekly order). */
  readonly weekday: number;
  /** Minutes since local midnight. */
  readonly minute: number;
}

/** The local date, weekday and minute of an instant in an IANA zone (the wall clock of util/zoned-time.ts). */
export function localTimeAt(at: number, timeZone: string): LocalTime {
  const local = localMsOf(at, timeZone);
  const day = Math.floor(local / DAY_MS);
  return { date: dateOf(day), weekday: weekdayOfDay(day), minute: Math.floor((local - day * DAY_MS) / MINUTE_MS) };
}

/** The day before a local date, with its weekday. */
function dayBefore(t: LocalTime): { date: string; weekday: number } {
  const [y, m, d] = t.date.split('-').map(Number) as [number, number, number];
  const day = daysFromCivil(y, m, d) - 1;
  return { date: dateOf(day), weekday: weekdayOfDay(day) };
}

function dateOf(day: number): string {
  const { year, month, day: d } = civilFromDays(day);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** The holiday falling on a local date ("YYYY-MM-DD" that day, or "MM-DD" every year), if any. */
export function holidayOn(date: string, holidays: readonly HolidayDef[]): HolidayDef | undefined {
  const monthDay = date.slice(5);
  return holidays.find((h) => h.date === date || h.date === monthDay);
}

function intervalsStartingOn(schedule: ScheduleDef, date: string, weekday: number, holidays: readonly HolidayDef[]): readonly DayInterval[] {
  return holidayOn(date, holidays) ? schedule.holiday : schedule.weekly[weekday]!;
}

export interface OpenState {
  readonly open: boolean;
  /** The interval that holds it open, "22:00-06:00", or null. */
  readonly interval: string | null;
  /** The holiday of the local day, if today is one (it switched the schedule to its holiday intervals). */
  readonly holiday: string | null;
}

/** Whether `schedule` is open at `at` in `timeZone`, and why. */
export function scheduleStateAt(schedule: ScheduleDef, holidays: readonly HolidayDef[], timeZone: string, at: number): OpenState {
  const today = localTimeAt(at, timeZone);
  const holiday = holidayOn(today.date, holidays)?.name ?? null;
  const label = (i: DayInterval) => `${formatClock(i.from)}-${formatClock(i.to)}`;
  if (!openAt(schedule, holidays, timeZone, at)) return { open: false, interval: null, holiday };
  for (const i of intervalsStartingOn(schedule, today.date, today.weekday, holidays)) {
    const crosses = i.to <= i.from;
    if (today.minute >= i.from && (crosses || today.minute < i.to)) return { open: true, interval: label(i), holiday };
  }
  const yesterday = dayBefore(today);
  for (const i of intervalsStartingOn(schedule, yesterday.date, yesterday.weekday, holidays)) {
    if (i.to <= i.from && today.minute < i.to) return { open: true, interval: label(i), holiday };
  }
  return { open: true, interval: null, holiday };
}
