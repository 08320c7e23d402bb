/*
 * ScheduleStates for the decision's hot path. Every schedule's state at the last refresh sits
 * in one Uint8Array, valid on [validFrom, validUntil) where validUntil is the earliest next edge
 * of any schedule: inside that range isOpen is two comparisons and one array read. The gateway
 * calls refresh(now) at start and on a timer set to what refresh returned; with 200 schedules
 * that is a few edges a day each, so the cache is nearly always current.
 *
 * A read time outside the range (a decision recorded with an older instant, a caller testing a
 * future one, a timer that fired late) is computed directly from the schedule (schedule-time.ts),
 * so the answer is exact for every `at`; the cache only makes the common case cheap.
 *
 * Slots: 0 is "always open" (a grant with no schedule); 1…n are the model's schedules in order.
 */
import type { AccessModel, ScheduleStates } from '../model.js';
import { ALWAYS } from '../model.js';
import { compilePattern, type DayPattern } from './day-pattern.js';
import { HolidayCalendar } from './holiday-calendar.js';
import { localDayOf, nextEdgePattern, openAtPattern } from './schedule-time.js';
import { isValidTimeZone } from '../../util/zoned-time.js';

export type ScheduleModel = Pick<AccessModel, 'timeZone' | 'schedules' | 'holidays'>;

export class CompiledSchedules implements ScheduleStates {
  readonly timeZone: string;
  private readonly patterns: readonly DayPattern[];
  private readonly calendar: HolidayCalendar;
  private readonly slots = new Map<string, number>();
  /** states[slot] is 1 when open on [validFrom, validUntil); states[0] stays 1 (always). */
  private readonly states: Uint8Array;
  private validFromMs = 0;
  private validUntilMs = 0; // empty range until the first refresh: every read is computed directly

  /** Throws, naming the field, on an unknown zone, a duplicate id or a malformed interval or date. */
  constructor(model: ScheduleModel) {
    if (!isValidTimeZone(model.timeZone)) throw new Error(`timeZone: not an IANA time zone: ${JSON.stringify(model.timeZone)}`);
    this.timeZone = model.timeZone;
    this.patterns = model.schedules.map((schedule, i) => {
      if (this.slots.has(schedule.id)) throw new Error(`schedules[${i}].id: duplicate schedule ${JSON.stringify(schedule.id)}`);
      this.slots.set(schedule.id, i + 1);
      return compilePattern(schedule, `schedules[${i}]`);
    });
    this.calendar = new HolidayCalendar(model.holidays);
    this.states = new Uint8Array(this.patterns.length + 1);
    this.states[ALWAYS] = 1;
  }

  /** Number of schedules (slots 1…count). */
  get count(): number {
    return this.patterns.length;
  }

  /** The cache's range: isOpen reads the array for validFrom <= at < validUntil. */
  get validFrom(): number {
    return this.validFromMs;
  }

  get validUntil(): number {
    return this.validUntilMs;
  }

  slotOf(scheduleId: string | null): number {
    if (scheduleId === null) return ALWAYS;
    const slot = this.slots.get(scheduleId);
    if (slot === undefined) throw new Error(`unknown schedule ${JSON.stringify(scheduleId)}`);
    return slot;
  }

  isOpen(slot: number, at: number): boolean {
    if (at >= this.validFromMs && at < this.validUntilMs) {
      const state = this.states[slot];
      if (state !== undefined) return state === 1;
    }
    return this.computeOpen(slot, at);
  }

  /** Whether `at`'s local date is one of the site's holidays. */
  isHoliday(at: number): boolean {
    return this.calendar.isHolidayDay(localDayOf(at, this.timeZone));
  }

  /**
   * Recomputes every state for `at` and returns the next instant any of them changes (or, for a
   * site whose schedules hold for years, the end of nextEdge's look: refreshing then is harmless).
   */
  refresh(at: number): number {
    let until = Infinity;
    for (let i = 0; i < this.patterns.length; i++) {
      const pattern = this.patterns[i]!;
      const open = openAtPattern(pattern, this.calendar, this.timeZone, at);
      this.states[i + 1] = open ? 1 : 0;
      until = Math.min(until, nextEdgePattern(pattern, this.calendar, this.timeZone, at, open));
    }
    this.validFromMs = at;
    this.validUntilMs = until;
    return until;
  }

  /** The exact answer without the cache (what isOpen falls back to outside the cached range). */
  computeOpen(slot: number, at: number): boolean {
    if (slot === ALWAYS) return true;
    const pattern = this.patterns[slot - 1];
    if (pattern === undefined || !Number.isInteger(slot)) throw new RangeError(`no schedule in slot ${slot} (1…${this.patterns.length})`);
    return openAtPattern(pattern, this.calendar, this.timeZone, at);
  }

  /** The next instant after `at` at which the schedule in `slot` changes state (see schedule-time.ts). */
  nextEdge(slot: number, at: number): number {
    if (slot === ALWAYS) return Infinity;
    const pattern = this.patterns[slot - 1];
    if (pattern === undefined) throw new RangeError(`no schedule in slot ${slot} (1…${this.patterns.length})`);
    return nextEdgePattern(pattern, this.calendar, this.timeZone, at);
  }
}
