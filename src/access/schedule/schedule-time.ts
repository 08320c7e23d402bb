/*
 * When a schedule is open, read in the site's IANA zone. The rules:
 *
 * - A schedule has intervals for each weekday (ISO, Monday first) and a list for holidays.
 *   Minutes count from local midnight, 0–1440.
 * - An interval belongs to the day it starts on. `to <= from` crosses midnight and ends at `to`
 *   on the next day (so `from == to` is 24 hours). `to = 1440` is the end of the day: the first
 *   instant of the next local date, the same instant `to = 0` on the next day would be, and does
 *   not cross midnight; `{ from: 0, to: 1440 }` is the whole day. (`from = 1440` reads as the
 *   next midnight but still belongs to its day; the config refuses it.)
 * - A holiday (a site-wide date, one-off `YYYY-MM-DD` or yearly `MM-DD`) replaces the intervals
 *   that START on it by the schedule's `holiday` intervals ([] = none). An interval that started
 *   the evening before runs to its end; one that starts on the holiday and crosses midnight runs
 *   into the next day.
 * - Intervals are half-open [start, end). Overlapping or touching intervals are one open run:
 *   the state changes only where the union begins or ends.
 * - DST: an interval starts at the first instant whose wall clock reads `from` or later on its
 *   day, and ends at the first later instant whose wall clock reads `to` or later on its end
 *   day. So on a fall-back night 01:00–03:00 lasts 3 real hours and 02:15–02:45 is open in the
 *   first pass of that half hour only; a start inside a spring-forward gap starts when the gap
 *   ends, and an interval wholly inside the gap (02:00–02:30 in Berlin) is empty that day.
 *
 * In wall-clock terms (what the property test's reference computes): with M(t) the latest wall
 * clock reading shown up to instant t, t is inside [from, to) of day D exactly when
 * D 00:00 + from <= M(t) < D 00:00 + to.
 *
 * openAt and nextEdge work from day numbers and local ms (src/util/zoned-time.ts), with no
 * strings and no Date objects: a handful of cached offset lookups per day they look at.
 */
import type { HolidayDef, ScheduleDef } from '../model.js';
import { DAY_MS, MINUTE_MS, firstInstantAtOrAfter, localMsOf, weekdayOfDay } from '../../util/zoned-time.js';
import { type DayPattern, MINUTES_PER_DAY, patternOf } from './day-pattern.js';
import { HolidayCalendar } from './holiday-calendar.js';

/**
 * How far nextEdge looks: four years and a few days, so a yearly 02-29 holiday is seen. A
 * schedule whose state does not change within it gets the end of the look as its "edge": the
 * state holds at least until then, and a cache refreshed there simply finds the same state.
 */
export const NEXT_EDGE_HORIZON_DAYS = 4 * 366 + 6;

/** The local date of an instant, as a day number. */
export function localDayOf(at: number, zone: string): number {
  return Math.floor(localMsOf(at, zone) / DAY_MS);
}

/** The first instant whose wall clock reads `minute` (0–2880) after `day`'s midnight, or later. */
function instantAt(day: number, minute: number, zone: string): number {
  return firstInstantAtOrAfter(day * DAY_MS + minute * MINUTE_MS, zone);
}

function pairsOf(pattern: DayPattern, calendar: HolidayCalendar, day: number): Int32Array {
  return calendar.isHolidayDay(day) ? pattern.holiday : pattern.weekly[weekdayOfDay(day)]!;
}

/** Whether one of `day`'s intervals that end after `minEnd` (minutes) contains `at`. */
function dayContains(pairs: Int32Array, day: number, minEnd: number, zone: string, at: number): boolean {
  for (let i = 0; i < pairs.length; i += 2) {
    if (pairs[i + 1]! <= minEnd) continue;
    if (instantAt(day, pairs[i]!, zone) > at) return false; // sorted by start: the rest start later
    if (at < instantAt(day, pairs[i + 1]!, zone)) return true;
  }
  return false;
}

export function openAtPattern(pattern: DayPattern, calendar: HolidayCalendar, zone: string, at: number): boolean {
  const today = localDayOf(at, zone);
  // Of yesterday's intervals only those crossing midnight can still run; earlier days' are over.
  if (dayContains(pairsOf(pattern, calendar, today - 1), today - 1, MINUTES_PER_DAY, zone, at)) return true;
  // Tomorrow counts too if its midnight came already (a zone that falls back across midnight).
  for (let day = today; day === today || instantAt(day, 0, zone) <= at; day++) {
    if (dayContains(pairsOf(pattern, calendar, day), day, 0, zone, at)) return true;
  }
  return false;
}

/** Whether the schedule is open at instant `at` (ms). */
export function openAt(schedule: ScheduleDef | DayPattern, holidays: readonly HolidayDef[] | HolidayCalendar, zone: string, at: number): boolean {
  return openAtPattern(patternOf(schedule), HolidayCalendar.of(holidays), zone, at);
}

/**
 * The next instant after `at` at which the schedule's state differs from its state at `at`, or
 * (see NEXT_EDGE_HORIZON_DAYS) the end of the look when there is none within it.
 */
export function nextEdge(schedule: ScheduleDef | DayPattern, holidays: readonly HolidayDef[] | HolidayCalendar, zone: string, at: number): number {
  return nextEdgePattern(patternOf(schedule), HolidayCalendar.of(holidays), zone, at);
}

export function nextEdgePattern(pattern: DayPattern, calendar: HolidayCalendar, zone: string, at: number, openNow?: boolean): number {
  const open = openNow ?? openAtPattern(pattern, calendar, zone, at);
  const today = localDayOf(at, zone);
  return open ? endOfOpenRun(pattern, calendar, zone, at, today) : nextOpening(pattern, calendar, zone, at, today);
}

/*
 * Both walks go forward day by day. A day's intervals start no earlier than its midnight and no
 * later than the next one, so starts come in order across days (and within a day, as stored):
 * a sweep over them in that order is a sweep over instants.
 */

/** Closed at `at`: the first start after `at` of an interval that is not empty. */
function nextOpening(pattern: DayPattern, calendar: HolidayCalendar, zone: string, at: number, today: number): number {
  const lastDay = today + NEXT_EDGE_HORIZON_DAYS;
  if (pattern.regular === 'closed' && pattern.holiday.length === 0) return instantAt(lastDay + 1, 0, zone); // never opens
  for (let day = today; day <= lastDay; day++) {
    if (pattern.regular === 'closed' && !calendar.isHolidayDay(day)) {
      // Regular days open nothing, so only a holiday's intervals can open the schedule.
      day = calendar.nextOnOrAfter(day);
      if (day > lastDay) break;
    }
    const pairs = pairsOf(pattern, calendar, day);
    for (let i = 0; i < pairs.length; i += 2) {
      const start = instantAt(day, pairs[i]!, zone);
      if (start > at && instantAt(day, pairs[i + 1]!, zone) > start) return start;
    }
  }
  return instantAt(lastDay + 1, 0, zone);
}

/** Open at `at`: where the open run through `at` (the union of touching intervals) ends. */
function endOfOpenRun(pattern: DayPattern, calendar: HolidayCalendar, zone: string, at: number, today: number): number {
  const lastDay = today + NEXT_EDGE_HORIZON_DAYS;
  let end = at; // the run is known to reach at least here
  for (let day = today - 1; day <= lastDay; day++) {
    if (day >= today && instantAt(day, 0, zone) > end) return end; // every later interval starts past the run
    if (pattern.regular === 'open' && day > today && !calendar.isHolidayDay(day - 1) && !calendar.isHolidayDay(day)) {
      // A stretch of regular days after a regular one is covered minute by minute: leap to the
      // day before the next holiday and take in only that day's intervals, which all join the
      // run (its own day is covered) and may run past midnight into the holiday.
      const last = Math.min(calendar.nextOnOrAfter(day) - 1, lastDay);
      end = Math.max(end, instantAt(last + 1, 0, zone));
      const pairs = pattern.weekly[weekdayOfDay(last)]!;
      for (let i = 1; i < pairs.length; i += 2) end = Math.max(end, instantAt(last, pairs[i]!, zone));
      day = last;
      continue;
    }
    const pairs = pairsOf(pattern, calendar, day);
    for (let i = 0; i < pairs.length; i += 2) {
      if (instantAt(day, pairs[i]!, zone) > end) break; // sorted by start: none of the rest joins
      end = Math.max(end, instantAt(day, pairs[i + 1]!, zone));
    }
  }
  return end;
}
