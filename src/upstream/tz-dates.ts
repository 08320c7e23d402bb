/*
 * Local dates for the booking side (appointments, reconciliation windows). The generic, pure
 * date and wall-clock arithmetic lives in src/util/zoned-time.ts, shared with the access
 * model's schedules; this module keeps what only the upstream side needs (the host's zone, a
 * date in an unknown zone) and re-exports the rest so its callers read dates from one place.
 */
import { isValidDate } from '../util/zoned-time.js';

export {
  addDays,
  datesTouched,
  formatInZone,
  isValidDate,
  isValidTimeZone,
  localDateOf,
  localDayRange,
  offsetAt,
  startOfLocalDay,
} from '../util/zoned-time.js';

export function hostTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * Every instant that is on `date` in some zone: from midnight at UTC+14 to the next midnight at
 * UTC−12 (the extremes of today's offsets), for when the zone is not known.
 */
export function anyZoneDayRange(date: string): { start: number; end: number } {
  if (!isValidDate(date)) throw new Error(`not a date: ${date}`);
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  return { start: midnightUtc - 14 * 3_600_000, end: midnightUtc + 36 * 3_600_000 };
}

