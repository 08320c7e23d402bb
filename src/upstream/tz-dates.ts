/*
 * Local-date arithmetic in IANA zones with nothing but Intl.DateTimeFormat (no tz library).
 * A "date" is `YYYY-MM-DD`; a local day is the half-open range of instants whose wall-clock
 * date in the zone is that date, which is 23 or 25 hours long on DST days.
 */

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

export function hostTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
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

function cachedOffset(ms: number, timeZone: string): number {
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
  const d = new Date(ms + cachedOffset(ms, timeZone));
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

/**
 * Every instant that is on `date` in some zone: from midnight at UTC+14 to the next midnight at
 * UTC−12 (the extremes of today's offsets), for when the zone is not known.
 */
export function anyZoneDayRange(date: string): { start: number; end: number } {
  if (!isValidDate(date)) throw new Error(`not a date: ${date}`);
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  return { start: midnightUtc - 14 * 3_600_000, end: midnightUtc + 36 * 3_600_000 };
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
