/*
 * A slow, obviously-right reference for schedule states: it walks an instant range a UTC minute
 * at a time, asks Intl (nothing from src/) what the wall clock reads, keeps the latest reading
 * shown so far, M(t), and calls the schedule open at t when D 00:00 + from <= M(t) < D 00:00 + to
 * for some interval of some day D, with the day's intervals chosen by string-compared holidays.
 * That is the rule in src/access/schedule/schedule-time.ts's header, stated without instants.
 * Every offset of the zones used is a whole number of minutes, so the state is constant within
 * a UTC minute and the walk sees every edge.
 */
import type { DayInterval, HolidayDef, ScheduleDef } from '../../../src/access/model.js';

const MIN = 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since 1970-01-01 00:00 on the zone's wall clock at instant t, from Intl alone (zoned-time's tests use it too). */
export function wallMinute(t: number, zone: string): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(zone, f);
  }
  const part: Record<string, number> = {};
  for (const p of f.formatToParts(t)) if (p.type !== 'literal') part[p.type] = Number(p.value);
  return Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!) / MIN;
}

function intervalsOf(schedule: ScheduleDef, holidays: readonly HolidayDef[], day: number): readonly DayInterval[] {
  const date = new Date(day * 86_400_000).toISOString().slice(0, 10);
  if (holidays.some((h) => h.date === date || h.date === date.slice(5))) return schedule.holiday;
  return schedule.weekly[(new Date(day * 86_400_000).getUTCDay() + 6) % 7]!;
}

function openAtWallMinute(schedule: ScheduleDef, holidays: readonly HolidayDef[], m: number): boolean {
  const today = Math.floor(m / 1440);
  for (const day of [today - 1, today]) {
    for (const { from, to } of intervalsOf(schedule, holidays, day)) {
      const start = day * 1440 + from;
      const end = (to <= from ? (day + 1) * 1440 : day * 1440) + to;
      if (start <= m && m < end) return true;
    }
  }
  return false;
}

export interface ReferenceTimeline {
  /** State at any instant in [from, to). */
  openAt(at: number): boolean;
  /** First instant after `at` (and before `to`) where the state differs from at `at`; null if none. */
  nextEdge(at: number): number | null;
}

/** The states of every UTC minute of [from, to), computed by the walk. */
export function referenceTimeline(schedule: ScheduleDef, holidays: readonly HolidayDef[], zone: string, from: number, to: number): ReferenceTimeline {
  const first = Math.floor(from / MIN) * MIN;
  const states: boolean[] = [];
  // Start the running maximum a day early: no clock falls back further than that.
  let latest = -Infinity;
  for (let t = first - 1440 * MIN; t < to; t += MIN) {
    latest = Math.max(latest, wallMinute(t, zone));
    if (t >= first) states.push(openAtWallMinute(schedule, holidays, latest));
  }
  const indexOf = (at: number): number => {
    if (at < from || at >= to) throw new RangeError(`reference asked outside its range: ${new Date(at).toISOString()}`);
    return Math.floor((at - first) / MIN);
  };
  return {
    openAt: (at) => states[indexOf(at)]!,
    nextEdge: (at) => {
      const i = indexOf(at);
      for (let j = i + 1; j < states.length; j++) if (states[j] !== states[i]) return first + j * MIN;
      return null;
    },
  };
}
