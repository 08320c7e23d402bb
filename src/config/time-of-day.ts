import type { DayInterval, DayMinute } from '../access/model.js';

/*
 * The YAML file's words for time: "HH:MM", "HH:MM-HH:MM" and weekday keys ("mon", "mon-fri").
 * One parser serves both the schema (which only asks whether a string parses, to label the
 * error with its path) and accessModelOf (which compiles it), so what check-config accepts is
 * exactly what the model is built from.
 */

/** Monday first, as the model's `weekly` arrays (ISO weekday − 1). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const CLOCK = /^([01]\d|2[0-4]):([0-5]\d)$/;

/** Minutes since midnight of "HH:MM"; "24:00" only where `allowEndOfDay` (an interval's end). */
export function parseClock(text: string, allowEndOfDay = false): DayMinute | null {
  const m = CLOCK.exec(text);
  if (!m) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 24 * 60 || (minutes === 24 * 60 && !allowEndOfDay)) return null;
  return minutes;
}

export const INTERVAL_HINT = 'HH:MM-HH:MM (from 00:00–23:59, to up to 24:00; an end at or before the start runs past midnight)';

/**
 * "22:00-06:00" → { from: 1320, to: 360 }: an end at or before the start ends on the next day
 * (model.ts). Equal ends are refused rather than read as 24 hours: "07:00-07:00" is far more
 * often a typo than a day-long interval, and "00:00-24:00" says a whole day plainly.
 */
export function parseInterval(text: string): DayInterval | null {
  const parts = text.split('-');
  if (parts.length !== 2) return null;
  const from = parseClock(parts[0]!);
  const to = parseClock(parts[1]!, true);
  if (from === null || to === null || from === to) return null;
  return { from, to };
}

/** Where an interval ends, counted from the midnight its day starts with (past 1440 when it crosses midnight). */
export function intervalEnd(i: DayInterval): number {
  return i.to > i.from ? i.to : i.to + 24 * 60;
}

/**
 * The weekdays a `weekly` key names: one day ("sat") or a range ("mon-fri"; "fri-mon" wraps
 * over the weekend). Null when the key is neither.
 */
export function parseWeekdays(key: string): Weekday[] | null {
  const [first, last, ...rest] = key.toLowerCase().split('-');
  if (rest.length > 0) return null;
  const a = WEEKDAYS.indexOf(first as Weekday);
  const b = last === undefined ? a : WEEKDAYS.indexOf(last as Weekday);
  if (a < 0 || b < 0) return null;
  const days: Weekday[] = [];
  for (let i = a; ; i = (i + 1) % 7) {
    days.push(WEEKDAYS[i]!);
    if (i === b) break;
  }
  return days;
}

/** Formats minutes as "HH:MM" (1440 as "24:00"), for messages and check-config. */
export function formatClock(minutes: DayMinute): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const ONE_OFF = /^(\d{4})-(\d{2})-(\d{2})$/;
const YEARLY = /^(\d{2})-(\d{2})$/;

/**
 * Whether a holiday date is real: "YYYY-MM-DD" once, or "MM-DD" every year ("02-29" is allowed
 * yearly and simply falls on leap years only; "2027-02-29" is refused).
 */
export function isHolidayDate(text: string): boolean {
  const once = ONE_OFF.exec(text);
  if (once) return isCalendarDate(Number(once[1]), Number(once[2]), Number(once[3]));
  const yearly = YEARLY.exec(text);
  return yearly !== null && isCalendarDate(2000, Number(yearly[1]), Number(yearly[2]));
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}
