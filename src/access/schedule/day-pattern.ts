/*
 * A ScheduleDef compiled for the walk in schedule-time.ts (whose header states the semantics):
 * each day's intervals as flat [start, end, start, end, …] minutes counted from that day's
 * local midnight, sorted by start. An interval that crosses midnight ends past 1440 (up to
 * 2880), so "belongs to the day it starts" is just where it is stored.
 */
import type { DayInterval, ScheduleDef } from '../model.js';

export const MINUTES_PER_DAY = 1440;

/**
 * What regular (non-holiday) days look like taken together, in wall-clock minutes: `closed`
 * when no weekday has an interval, `open` when every minute of the week is covered (by its own
 * day's intervals or by the previous day's running past midnight), else `varies`. A walk over a
 * constant stretch may jump to the next holiday: DST can only merge or empty intervals, never
 * open a gap in a covered stretch or an opening in an empty one.
 */
export type RegularShape = 'open' | 'closed' | 'varies';

export interface DayPattern {
  readonly id: string;
  /** ISO weekday − 1 (Monday first), as ScheduleDef.weekly. */
  readonly weekly: readonly Int32Array[];
  readonly holiday: Int32Array;
  readonly regular: RegularShape;
}

/** An interval as minutes from its own day's midnight: `to <= from` ends on the next day. */
function flatten(intervals: readonly DayInterval[], where: string): Int32Array {
  const pairs = intervals.map((interval, i) => {
    const { from, to } = interval;
    for (const [name, minute] of [['from', from], ['to', to]] as const) {
      if (!Number.isInteger(minute) || minute < 0 || minute > MINUTES_PER_DAY) {
        throw new Error(`${where}[${i}].${name}: expected a whole minute 0–1440, got ${minute}`);
      }
    }
    return [from, to <= from ? MINUTES_PER_DAY + to : to] as const;
  });
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return Int32Array.from(pairs.flat());
}

/** Whether one regular day's minutes [0, 1440) are all covered, given the day before. */
function dayCovered(own: Int32Array, previous: Int32Array): boolean {
  const segments: [number, number][] = [];
  for (let i = 0; i < own.length; i += 2) segments.push([own[i]!, Math.min(own[i + 1]!, MINUTES_PER_DAY)]);
  for (let i = 0; i < previous.length; i += 2) {
    const end = previous[i + 1]! - MINUTES_PER_DAY;
    if (end > 0) segments.push([Math.max(0, previous[i]! - MINUTES_PER_DAY), end]);
  }
  segments.sort((a, b) => a[0] - b[0]);
  let coveredTo = 0;
  for (const [start, end] of segments) {
    if (start > coveredTo) return false;
    coveredTo = Math.max(coveredTo, end);
  }
  return coveredTo >= MINUTES_PER_DAY;
}

function regularShape(weekly: readonly Int32Array[]): RegularShape {
  if (weekly.every((day) => day.length === 0)) return 'closed';
  return weekly.every((day, i) => dayCovered(day, weekly[(i + 6) % 7]!)) ? 'open' : 'varies';
}

export function compilePattern(schedule: ScheduleDef, where = `schedule ${schedule.id}`): DayPattern {
  if (schedule.weekly.length !== 7) throw new Error(`${where}.weekly: expected 7 days (Monday first), got ${schedule.weekly.length}`);
  const weekly = schedule.weekly.map((day, i) => flatten(day, `${where}.weekly[${i}]`));
  return { id: schedule.id, weekly, holiday: flatten(schedule.holiday, `${where}.holiday`), regular: regularShape(weekly) };
}

const compiled = new WeakMap<ScheduleDef, DayPattern>();

/** One compiled pattern per ScheduleDef object, for the free functions called again and again. */
export function patternOf(schedule: ScheduleDef | DayPattern): DayPattern {
  if (schedule.weekly[0] instanceof Int32Array) return schedule as DayPattern;
  const def = schedule as ScheduleDef;
  let pattern = compiled.get(def);
  if (!pattern) compiled.set(def, (pattern = compilePattern(def)));
  return pattern;
}
