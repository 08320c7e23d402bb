import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DayInterval, HolidayDef, ScheduleDef } from '../../../src/access/model.js';
import { CompiledSchedules } from '../../../src/access/schedule/compiled-schedules.js';
import { nextEdge, openAt } from '../../../src/access/schedule/schedule-time.js';
import { type ReferenceTimeline, referenceTimeline } from './reference.js';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC', 'America/Santiago', 'Asia/Kathmandu'];
const FIRST = Date.parse('2024-01-01T00:00:00Z');
const LAST = Date.parse('2031-01-01T00:00:00Z');

/** UTC days on which a zone's offset changes, found with Intl alone, so instants can be aimed at them. */
function transitionDays(zone: string): number[] {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offset = (t: number) => f.formatToParts(t).find((p) => p.type === 'timeZoneName')!.value;
  const days: number[] = [];
  for (let t = FIRST; t < LAST; t += DAY) if (offset(t) !== offset(t + DAY)) days.push(t);
  return days;
}
const TRANSITIONS = new Map(ZONES.map((zone) => [zone, transitionDays(zone)]));

// Minutes that meet DST changes (01:00–03:00 local, Lord Howe's half hours) and the day's ends.
const minute = fc.oneof(fc.integer({ min: 0, max: 1440 }), fc.constantFrom(0, 30, 60, 90, 120, 135, 150, 180, 210, 1380, 1410, 1440));
const interval: fc.Arbitrary<DayInterval> = fc.record({ from: minute.filter((m) => m < 1440), to: minute });
const dayIntervals = fc.array(interval, { maxLength: 3 });
const schedule: fc.Arbitrary<ScheduleDef> = fc.record({
  id: fc.constant('s'),
  weekly: fc.oneof(
    fc.array(dayIntervals, { minLength: 7, maxLength: 7 }),
    // Every day alike, sometimes the whole day: the constant shapes whose edges come from holidays only.
    fc.oneof(dayIntervals, fc.constant([{ from: 0, to: 1440 }]), fc.constant([] as DayInterval[])).map((day) => Array.from({ length: 7 }, () => day)),
  ),
  holiday: fc.oneof(dayIntervals, fc.constant([] as DayInterval[])),
});

/** An instant: anywhere in 2024–2030, or within a day of one of the zone's offset changes. */
const instant = (zone: string): fc.Arbitrary<number> => {
  const anywhere = fc.integer({ min: FIRST + 2 * DAY, max: LAST - 5 * DAY });
  const changes = TRANSITIONS.get(zone)!.slice(1, -1);
  if (changes.length === 0) return anywhere; // Kolkata, Kathmandu, UTC: no DST
  return fc.oneof(anywhere, fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -DAY, max: DAY })).map(([day, offset]) => day + offset));
};

/** Holidays a few days around the instant, one-off or yearly, so that they matter. */
const holidaysNear = (at: number) =>
  fc.array(fc.record({ days: fc.integer({ min: -2, max: 3 }), yearly: fc.boolean() }), { maxLength: 4 }).map((specs): HolidayDef[] =>
    specs.map(({ days, yearly }, i) => {
      const date = new Date(at + days * DAY).toISOString().slice(0, 10);
      return { name: `h${i}`, date: yearly ? date.slice(5) : date };
    }),
  );

const scenario = fc
  .constantFrom(...ZONES)
  .chain((zone) => instant(zone).map((at) => ({ zone, at })))
  .chain(({ zone, at }) => fc.record({ zone: fc.constant(zone), at: fc.constant(at), schedule, holidays: holidaysNear(at) }));

const WINDOW_BEFORE = 6 * H;
const WINDOW_AFTER = 2 * DAY;

/** Walks every edge from `from` to `to` with nextEdge and checks each, and the state on both sides, against the reference. */
function expectReferenceEdges(def: ScheduleDef, holidays: HolidayDef[], zone: string, ref: ReferenceTimeline, from: number, to: number): void {
  let at = from;
  for (let edges = 0; at < to; edges++) {
    const where = `edge ${edges} after ${new Date(at).toISOString()}`;
    expect(openAt(def, holidays, zone, at), where).toBe(ref.openAt(at));
    const edge = nextEdge(def, holidays, zone, at);
    const expected = ref.nextEdge(at);
    if (expected === null) {
      expect(edge, where).toBeGreaterThan(to - MIN);
      return;
    }
    expect(new Date(edge).toISOString(), where).toBe(new Date(expected).toISOString());
    if (edge - 1 >= from) expect(openAt(def, holidays, zone, edge - 1), where).toBe(ref.openAt(at));
    at = edge;
  }
}

describe('schedule states against a minute-by-minute Intl reference', () => {
  it('openAt and nextEdge agree with the reference, over random schedules, holidays, zones and instants in 2024–2030', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.integer({ min: -WINDOW_BEFORE, max: WINDOW_AFTER - 1 }), { minLength: 4, maxLength: 4 }), (s, probes) => {
        const end = s.at + WINDOW_AFTER;
        const ref = referenceTimeline(s.schedule, s.holidays, s.zone, s.at - WINDOW_BEFORE, end);
        for (const probe of probes) expect(openAt(s.schedule, s.holidays, s.zone, s.at + probe), `probe ${probe / MIN} min`).toBe(ref.openAt(s.at + probe));
        expectReferenceEdges(s.schedule, s.holidays, s.zone, ref, s.at, end);
      }),
      { numRuns: 100 },
    );
  }, 60_000); // ~4,000 Intl calls a run for the reference: seconds on a shared two-core box

  it('schedules that only holidays change: the walk that leaps from holiday to holiday finds the same edges over three weeks', () => {
    const constantWeek = fc.constantFrom<DayInterval[]>([{ from: 0, to: 1440 }], [{ from: 720, to: 720 }], [{ from: 0, to: 900 }, { from: 900, to: 0 }], []);
    const holidayDays = fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { maxLength: 5 });
    fc.assert(
      fc.property(fc.constantFrom('Europe/Berlin', 'Australia/Lord_Howe', 'UTC'), fc.integer({ min: FIRST, max: LAST - 30 * DAY }), constantWeek, dayIntervals, holidayDays, (zone, at, day, holiday, days) => {
        const def: ScheduleDef = { id: 'c', weekly: Array.from({ length: 7 }, () => day), holiday };
        const holidays = days.map((d, i) => ({ name: `h${i}`, date: new Date(at + d * DAY).toISOString().slice(0, 10) }));
        const end = at + 21 * DAY;
        expectReferenceEdges(def, holidays, zone, referenceTimeline(def, holidays, zone, at, end), at, end);
      }),
      { numRuns: 8 },
    );
  }, 60_000); // three weeks of minutes is ~30,000 Intl calls a run

  it('the cached path and the direct path give the same answer inside and outside the cached range', () => {
    const many = fc.array(schedule, { minLength: 1, maxLength: 4 }).map((list) => list.map((def, i) => ({ ...def, id: `s${i}` })));
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: FIRST, max: LAST }), many, fc.array(fc.integer({ min: -3 * DAY, max: 3 * DAY }), { maxLength: 12 }), (zone, at, schedules, offsets) => {
        const holidays = [{ name: 'a', date: new Date(at + DAY).toISOString().slice(0, 10) }, { name: 'b', date: new Date(at - DAY).toISOString().slice(5, 10) }];
        const states = new CompiledSchedules({ timeZone: zone, schedules, holidays });
        const until = states.refresh(at);
        expect(until).toBeGreaterThan(at);
        const times = [at, until - 1, until, ...offsets.map((o) => at + o), ...offsets.map((o) => at + Math.abs(o) % Math.max(1, Math.min(until - at, 10 * DAY)))];
        for (const t of times) {
          for (let slot = 1; slot <= schedules.length; slot++) {
            const direct = openAt(schedules[slot - 1]!, holidays, zone, t);
            expect(states.isOpen(slot, t), `slot ${slot} at ${new Date(t).toISOString()}`).toBe(direct);
            expect(states.computeOpen(slot, t)).toBe(direct);
          }
        }
        // Inside the range no schedule changes: each one's own next edge is at or after `until`.
        for (let slot = 1; slot <= schedules.length; slot++) expect(states.nextEdge(slot, at)).toBeGreaterThanOrEqual(until);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
