/*
 * Wall clock <-> instant in IANA zones with nothing but Intl.DateTimeFormat (no tz library).
 * A "date" is `YYYY-MM-DD`; a local day is the half-open range of instants whose wall-clock
 * date in the zone is that date, which is 23 or 25 hours long on DST days.
 *
 * Two encodings serve the hot callers (src/access/schedule/) without strings or Date objects:
 * - a *local ms* number is a wall-clock reading written as if it were UTC:
 *   `Date.UTC(y, m - 1, d, h, min)`, so `localMs / DAY_MS` is a day number (0 = 1970-01-01)
 *   whose weekday and calendar date are plain arithmetic;
 * - `firstInstantAtOrAfter(localMs)` goes back: the first instant whose wall clock reads
 *   `localMs` or later. A reading the clock skips (spring forward) gives the instant the gap
 *   ends; one it shows twice (fall back) gives the first time.
 *
 * Pure: no I/O, no clock. The caches below only remember what Intl answered.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();
const dayStartCache = new Map<string, number>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** What Intl says the wall clock reads at an instant: exact, but ~20 µs a call. */
function wallClockFromIntl(ms: number, timeZone: string): WallClock {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return {
    year: out.year ?? 0,
    month: out.month ?? 0,
    day: out.day ?? 0,
    hour: out.hour ?? 0,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/*
 * Offsets change only at transitions, and every modern zone's transitions fall on a 15-minute
 * UTC boundary (offsets are multiples of 15 minutes, changes happen at whole local minutes of
 * :00/:30/:45). So the offset is asked of Intl once per zone per 15-minute bucket and cached;
 * a reconciliation of thousands of appointments then costs a Map lookup per instant.
 */
const BUCKET_MS = 15 * 60_000;
const MAX_CACHED_BUCKETS = 50_000;
const offsetCache = new Map<string, Map<number, number>>();

/** The zone's UTC offset at an instant, in ms: one Map lookup once its bucket has been asked. */
export function utcOffsetMs(ms: number, timeZone: string): number {
  let zone = offsetCache.get(timeZone);
  if (!zone) offsetCache.set(timeZone, (zone = new Map()));
  const bucket = Math.floor(ms / BUCKET_MS);
  let offset = zone.get(bucket);
  if (offset === undefined) {
    const start = bucket * BUCKET_MS;
    const w = wallClockFromIntl(start, timeZone);
    offset = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - start;
    if (zone.size >= MAX_CACHED_BUCKETS) zone.clear();
    zone.set(bucket, offset);
  }
  return offset;
}

function wallClock(ms: number, timeZone: string): WallClock {
  const d = new Date(ms + utcOffsetMs(ms, timeZone));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

/** The wall-clock date of an instant in a zone. */
export function localDateOf(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The zone's UTC offset at an instant, in ms (whole seconds: historic offsets have them). */
export function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

export function isValidDate(date: string): boolean {
  const m = DATE_RE.exec(date);
  if (!m) return false;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === date;
}

export function addDays(date: string, days: number): string {
  const m = DATE_RE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days)).toISOString().slice(0, 10);
}

/**
 * First instant whose local date is `date`. Found by bisection over a ±30 h window around
 * midnight UTC, so DST gaps at midnight (days that start at 01:00) come out right too.
 */
export function startOfLocalDay(date: string, timeZone: string): number {
  const key = `${timeZone}\n${date}`;
  const cached = dayStartCache.get(key);
  if (cached !== undefined) return cached;
  if (!isValidDate(date)) throw new Error(`not a date: ${date}`);
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  let lo = midnightUtc - 30 * 3_600_000; // local date certainly before `date`
  let hi = midnightUtc + 30 * 3_600_000; // local date certainly `date` or after
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localDateOf(mid, timeZone) >= date) hi = mid;
    else lo = mid;
  }
  if (dayStartCache.size > 50_000) dayStartCache.clear();
  dayStartCache.set(key, hi);
  return hi;
}

/** The local day as a half-open instant range [start, end). */
export function localDayRange(date: string, timeZone: string): { start: number; end: number } {
  return { start: startOfLocalDay(date, timeZone), end: startOfLocalDay(addDays(date, 1), timeZone) };
}

/** Every local date an interval [startMs, endMs) touches; a zero-length one touches its own date. */
export function datesTouched(startMs: number, endMs: number, timeZone: string): string[] {
  const first = localDateOf(startMs, timeZone);
  const last = localDateOf(Math.max(startMs, endMs - 1), timeZone);
  const dates = [first];
  for (let d = first; d < last && dates.length < 400; ) {
    d = addDays(d, 1);
    dates.push(d);
  }
  return dates;
}

/** RFC 3339 with the zone's offset at that instant, e.g. `2026-11-22T12:00:00+01:00`. */
export function formatInZone(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  const off = Math.round(offsetAt(ms, timeZone) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The wall-clock reading at an instant, as local ms (see the header). */
export function localMsOf(ms: number, timeZone: string): number {
  return ms + utcOffsetMs(ms, timeZone);
}

/*
 * The instant we look for lies within 14 hours before `localMs` read as UTC (the largest
 * offset, UTC+14) and 12 hours after (UTC−12); one more hour either side for safety. No zone
 * since 1970 changes its offset twice within such a window, so either the offset is the same at
 * both ends (one candidate) or there is exactly one transition, found by bisection over the
 * 15-minute buckets the offset cache works in (every transition falls on one, see above).
 */
const SEARCH_BEFORE_MS = 15 * 3_600_000;
const SEARCH_AFTER_MS = 13 * 3_600_000;

/** The first instant whose wall clock reads `localMs` or later (see the header). */
export function firstInstantAtOrAfter(localMs: number, timeZone: string): number {
  const offsetEarly = utcOffsetMs(localMs - SEARCH_BEFORE_MS, timeZone);
  const offsetLate = utcOffsetMs(localMs + SEARCH_AFTER_MS, timeZone);
  if (offsetEarly === offsetLate) return localMs - offsetEarly;
  let before = Math.floor((localMs - SEARCH_BEFORE_MS) / BUCKET_MS); // a bucket with the early offset
  let after = Math.floor((localMs + SEARCH_AFTER_MS) / BUCKET_MS); // a bucket past the transition
  while (after - before > 1) {
    const mid = before + Math.floor((after - before) / 2);
    if (utcOffsetMs(mid * BUCKET_MS, timeZone) === offsetEarly) before = mid;
    else after = mid;
  }
  const transition = after * BUCKET_MS;
  // Read with the early offset, the clock shows `localMs` before the change: the first time.
  const early = localMs - offsetEarly;
  if (early < transition) return early;
  // Otherwise with the late offset, unless the clock jumped over `localMs`: then the jump itself.
  return Math.max(localMs - utcOffsetMs(transition, timeZone), transition);
}

/**
 * Calendar date of a day number (0 = 1970-01-01), proleptic Gregorian, packed into one number
 * as `year * 512 + month * 32 + day` (so `packed & 511` is a month-day key): the holiday check
 * on the schedule path asks this for every day it looks at and must not allocate.
 */
export function packedCivilFromDays(dayNumber: number): number {
  // Howard Hinnant's civil_from_days: eras of 400 years, years starting in March.
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return year * 512 + month * 32 + day;
}

/** Calendar date of a day number (0 = 1970-01-01); month 1–12. */
export function civilFromDays(dayNumber: number): { year: number; month: number; day: number } {
  const packed = packedCivilFromDays(dayNumber);
  return { year: Math.floor(packed / 512), month: (packed >> 5) & 15, day: packed & 31 };
}

/** Day number (0 = 1970-01-01) of a calendar date; month 1–12, day 1–31 (a larger day rolls over). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** ISO weekday − 1 of a day number: 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
export function weekdayOfDay(dayNumber: number): number {
  return (((dayNumber + 3) % 7) + 7) % 7;
}
