/*
 * The site's holidays as day numbers (0 = 1970-01-01, local dates of the site's zone), so a
 * schedule asks "is this day a holiday?" with arithmetic and a Set lookup, never a string.
 * `YYYY-MM-DD` is a one-off date; `MM-DD` is the same date every year (`02-29` only in leap
 * years: a site that wants "the last day of February" writes two holidays).
 */
import type { HolidayDef } from '../model.js';
import { daysFromCivil, packedCivilFromDays } from '../../util/zoned-time.js';

const ONE_OFF = /^(\d{4})-(\d{2})-(\d{2})$/;
const YEARLY = /^(\d{2})-(\d{2})$/;
/** Longest wait for a yearly date to come round: 02-29 skips 2100 (8 years between leap days). */
const YEARLY_LOOKAHEAD_YEARS = 8;
const MAX_CACHED_YEARS = 64;

const monthDayKey = (month: number, day: number): number => month * 32 + day;

function daysInMonth(year: number, month: number): number {
  return daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - daysFromCivil(year, month, 1);
}

const isLeapYear = (year: number): boolean => daysInMonth(year, 2) === 29;

export class HolidayCalendar {
  private static readonly compiled = new WeakMap<readonly HolidayDef[], HolidayCalendar>();
  private readonly oneOffDays = new Set<number>();
  /** The one-off days in ascending order, for the next one after a day. */
  private readonly oneOffSorted: number[];
  private readonly yearlyKeys = new Set<number>();
  private readonly yearlyDates: { month: number; day: number }[] = [];
  private readonly byYear = new Map<number, Int32Array>();

  /** Throws on a date that is neither form, naming `holidays[i].date` (the model is validated before; this is the backstop). */
  constructor(holidays: readonly HolidayDef[]) {
    holidays.forEach((holiday, i) => {
      const where = `holidays[${i}].date`;
      const oneOff = ONE_OFF.exec(holiday.date);
      const yearly = oneOff ? null : YEARLY.exec(holiday.date);
      if (oneOff) {
        const [year, month, day] = [Number(oneOff[1]), Number(oneOff[2]), Number(oneOff[3])];
        if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw new Error(`${where}: no such date: ${holiday.date}`);
        this.oneOffDays.add(daysFromCivil(year, month, day));
      } else if (yearly) {
        const [month, day] = [Number(yearly[1]), Number(yearly[2])];
        // 2000 is a leap year: every MM-DD that exists in some year exists in it.
        if (month < 1 || month > 12 || day < 1 || day > daysInMonth(2000, month)) throw new Error(`${where}: no such date: ${holiday.date}`);
        if (!this.yearlyKeys.has(monthDayKey(month, day))) this.yearlyDates.push({ month, day });
        this.yearlyKeys.add(monthDayKey(month, day));
      } else {
        throw new Error(`${where}: expected YYYY-MM-DD or MM-DD, got ${JSON.stringify(holiday.date)}`);
      }
    });
    this.oneOffSorted = [...this.oneOffDays].sort((a, b) => a - b);
  }

  /** One calendar per holiday list, so the free functions (openAt, nextEdge) do not re-parse on every call. */
  static of(holidays: readonly HolidayDef[] | HolidayCalendar): HolidayCalendar {
    if (holidays instanceof HolidayCalendar) return holidays;
    let calendar = HolidayCalendar.compiled.get(holidays);
    if (!calendar) HolidayCalendar.compiled.set(holidays, (calendar = new HolidayCalendar(holidays)));
    return calendar;
  }

  isHolidayDay(dayNumber: number): boolean {
    if (this.oneOffDays.has(dayNumber)) return true;
    return this.yearlyKeys.size > 0 && this.yearlyKeys.has(packedCivilFromDays(dayNumber) & 511);
  }

  /** The first holiday on or after a day, or Infinity when there is none. */
  nextOnOrAfter(dayNumber: number): number {
    const year = Math.floor(packedCivilFromDays(dayNumber) / 512);
    // Year by year while yearly dates can still come round; after that only one-offs are left.
    for (let y = year; y <= year + YEARLY_LOOKAHEAD_YEARS; y++) {
      const days = this.daysOfYear(y);
      const i = firstAtOrAfter(days, dayNumber);
      if (i < days.length) return days[i]!;
    }
    const i = firstAtOrAfter(this.oneOffSorted, dayNumber);
    return i < this.oneOffSorted.length ? this.oneOffSorted[i]! : Infinity;
  }

  /** Every holiday of a calendar year, ascending; kept, as a walk asks the same years again and again. */
  private daysOfYear(year: number): Int32Array {
    let days = this.byYear.get(year);
    if (!days) {
      const start = daysFromCivil(year, 1, 1);
      const end = daysFromCivil(year + 1, 1, 1);
      const list = this.oneOffSorted.filter((day) => day >= start && day < end);
      for (const { month, day } of this.yearlyDates) if (!(month === 2 && day === 29 && !isLeapYear(year))) list.push(daysFromCivil(year, month, day));
      days = Int32Array.from(new Set(list)).sort();
      if (this.byYear.size >= MAX_CACHED_YEARS) this.byYear.clear();
      this.byYear.set(year, days);
    }
    return days;
  }
}

/** Index of the first element >= value in an ascending list (its length when there is none). */
function firstAtOrAfter(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
