import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, datesTouched, formatInZone, localDateOf, localDayRange, startOfLocalDay } from '../../src/upstream/tz-dates.js';

const H = 3_600_000;

describe('local dates in IANA zones', () => {
  it('a normal Amsterdam winter day is 24 h starting at 23:00Z', () => {
    const d = localDayRange('2026-11-22', 'Europe/Amsterdam');
    expect(new Date(d.start).toISOString()).toBe('2026-11-21T23:00:00.000Z');
    expect(d.end - d.start).toBe(24 * H);
  });

  it('the spring-forward day in Amsterdam is 23 h, the fall-back day 25 h', () => {
    const spring = localDayRange('2026-03-29', 'Europe/Amsterdam');
    expect(new Date(spring.start).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(new Date(spring.end).toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(spring.end - spring.start).toBe(23 * H);
    const fall = localDayRange('2026-10-25', 'Europe/Amsterdam');
    expect(new Date(fall.start).toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(fall.end - fall.start).toBe(25 * H);
  });

  it('a day whose midnight does not exist starts at the first instant of that date', () => {
    // Chile moves clocks from 24:00 to 01:00 on the first Sunday of September 2026.
    const start = startOfLocalDay('2026-09-06', 'America/Santiago');
    expect(localDateOf(start, 'America/Santiago')).toBe('2026-09-06');
    expect(localDateOf(start - 1, 'America/Santiago')).toBe('2026-09-05');
    expect(formatInZone(start, 'America/Santiago')).toBe('2026-09-06T01:00:00-03:00');
  });

  it('formats RFC 3339 with the offset in force at that instant', () => {
    expect(formatInZone(Date.parse('2026-11-22T11:00:00Z'), 'Europe/Amsterdam')).toBe('2026-11-22T12:00:00+01:00');
    expect(formatInZone(Date.parse('2026-07-01T11:00:00Z'), 'Europe/Amsterdam')).toBe('2026-07-01T13:00:00+02:00');
    expect(formatInZone(Date.parse('2026-07-01T11:00:00Z'), 'Asia/Kolkata')).toBe('2026-07-01T16:30:00+05:30');
  });

  it('an appointment across midnight touches both dates; one ending at midnight does not', () => {
    const tz = 'Europe/Amsterdam';
    expect(datesTouched(Date.parse('2026-11-22T21:00:00Z'), Date.parse('2026-11-23T01:00:00Z'), tz)).toEqual(['2026-11-22', '2026-11-23']);
    expect(datesTouched(Date.parse('2026-11-22T20:00:00Z'), Date.parse('2026-11-22T23:00:00Z'), tz)).toEqual(['2026-11-22']);
    expect(datesTouched(Date.parse('2026-11-22T12:00:00Z'), Date.parse('2026-11-22T12:00:00Z'), tz)).toEqual(['2026-11-22']);
    // The same instants are a different date in New York.
    expect(datesTouched(Date.parse('2026-11-22T21:00:00Z'), Date.parse('2026-11-23T01:00:00Z'), 'America/New_York')).toEqual(['2026-11-22']);
  });

  it('every day start belongs to its date and the instant before to the previous one', () => {
    const zones = ['Europe/Amsterdam', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago', 'UTC'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * 366 }), fc.constantFrom(...zones), (offset, tz) => {
        const date = addDays('2025-01-01', offset);
        const start = startOfLocalDay(date, tz);
        expect(localDateOf(start, tz)).toBe(date);
        expect(localDateOf(start - 1, tz)).toBe(addDays(date, -1));
      }),
      { numRuns: 300 },
    );
  });
});
