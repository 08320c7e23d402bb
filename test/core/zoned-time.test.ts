import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wallMinute as intlWallMinute } from '../access/schedule/reference.js';
import { civilFromDays, daysFromCivil, firstInstantAtOrAfter, localMsOf, weekdayOfDay } from '../../src/util/zoned-time.js';

const MIN = 60_000;
const local = (wall: string): number => Date.parse(`${wall}:00Z`); // a wall-clock reading as local ms
const utc = (ms: number): string => new Date(ms).toISOString().replace('.000', '');

describe('wall clock → instant', () => {
  it('an ordinary reading is one instant; a skipped one is the end of the gap; a repeated one is its first time', () => {
    expect(utc(firstInstantAtOrAfter(local('2026-07-01T12:00'), 'Europe/Berlin'))).toBe('2026-07-01T10:00:00Z');
    expect(utc(firstInstantAtOrAfter(local('2026-03-29T02:30'), 'Europe/Berlin'))).toBe('2026-03-29T01:00:00Z');
    expect(utc(firstInstantAtOrAfter(local('2026-10-25T02:30'), 'Europe/Berlin'))).toBe('2026-10-25T00:30:00Z');
    expect(utc(firstInstantAtOrAfter(local('2026-10-25T03:00'), 'Europe/Berlin'))).toBe('2026-10-25T02:00:00Z');
    expect(utc(firstInstantAtOrAfter(local('2026-10-04T02:15'), 'Australia/Lord_Howe'))).toBe('2026-10-03T15:30:00Z');
    expect(utc(firstInstantAtOrAfter(local('2026-07-01T09:00'), 'Asia/Kolkata'))).toBe('2026-07-01T03:30:00Z');
    expect(localMsOf(Date.parse('2026-07-01T03:30:00Z'), 'Asia/Kolkata')).toBe(local('2026-07-01T09:00'));
  });

  it('is the first instant whose Intl wall clock reads the minute or later, in zones with 60-, 30- and 15-minute offsets', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago', 'Pacific/Chatham', 'UTC'];
    const start = Date.parse('2024-01-01T00:00:00Z') / MIN;
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: start, max: start + 7 * 525_600 }), (zone, wallMinute) => {
        const found = firstInstantAtOrAfter(wallMinute * MIN, zone);
        expect(found % MIN).toBe(0);
        expect(intlWallMinute(found, zone)).toBeGreaterThanOrEqual(wallMinute);
        // No minute in the 16 hours before reads that far.
        for (let t = found - MIN; t > found - 16 * 60 * MIN; t -= MIN) expect(intlWallMinute(t, zone)).toBeLessThan(wallMinute);
      }),
      { numRuns: 60 },
    );
  }, 30_000); // ~1,000 Intl calls a run
});

describe('day numbers', () => {
  it('civil dates and weekdays agree with Date for ±100,000 days around 1970', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 100_000 }), (day) => {
        const d = new Date(day * 86_400_000);
        const civil = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
        expect(civilFromDays(day)).toEqual(civil);
        expect(daysFromCivil(civil.year, civil.month, civil.day)).toBe(day);
        expect(weekdayOfDay(day)).toBe((d.getUTCDay() + 6) % 7);
      }),
      { numRuns: 2_000 },
    );
    expect(weekdayOfDay(daysFromCivil(2026, 11, 23))).toBe(0); // a Monday
    expect(daysFromCivil(2026, 2, 29)).toBe(daysFromCivil(2026, 3, 1)); // a day past the month rolls over
  });
});
