import { describe, expect, it } from 'vitest';
import type { DayInterval, ScheduleDef } from '../../../src/access/model.js';
import { nextEdge, openAt } from '../../../src/access/schedule/schedule-time.js';

/*
 * Instants are written with the offset in force (so the expectation does not lean on the code
 * under test): a DST rule reads "the first instant whose wall clock reads `from` or later on its
 * day", ending at the first later instant whose wall clock reads `to` or later.
 */
const t = (isoWithOffset: string): number => Date.parse(isoWithOffset);
const utc = (ms: number): string => new Date(ms).toISOString().replace('.000', '');
const hm = (h: number, m = 0): number => h * 60 + m;

/** The same intervals every day. */
const daily = (...intervals: DayInterval[]): ScheduleDef => ({ id: 'dst', weekly: Array.from({ length: 7 }, () => intervals), holiday: [] });

/** [start, end) of the open run through `inside`, as UTC strings. */
function run(def: ScheduleDef, zone: string, before: number): [string, string] {
  expect(openAt(def, [], zone, before)).toBe(false);
  const start = nextEdge(def, [], zone, before);
  expect(openAt(def, [], zone, start)).toBe(true);
  expect(openAt(def, [], zone, start - 1)).toBe(false);
  const end = nextEdge(def, [], zone, start);
  expect(openAt(def, [], zone, end - 1)).toBe(true);
  expect(openAt(def, [], zone, end)).toBe(false);
  return [utc(start), utc(end)];
}

describe('Europe/Berlin (CET +01:00, CEST +02:00)', () => {
  const zone = 'Europe/Berlin';

  it('fall back (2026-10-25, 03:00 CEST → 02:00 CET): 01:00–03:00 lasts three real hours', () => {
    expect(run(daily({ from: hm(1), to: hm(3) }), zone, t('2026-10-25T00:30:00+02:00'))).toEqual(['2026-10-24T23:00:00Z', '2026-10-25T02:00:00Z']);
    // And two on the ordinary day after.
    expect(run(daily({ from: hm(1), to: hm(3) }), zone, t('2026-10-26T00:30:00+01:00'))).toEqual(['2026-10-26T00:00:00Z', '2026-10-26T02:00:00Z']);
  });

  it('fall back: an interval inside the repeated hour is open in its first pass only', () => {
    const def = daily({ from: hm(2, 15), to: hm(2, 45) });
    expect(run(def, zone, t('2026-10-25T02:00:00+02:00'))).toEqual(['2026-10-25T00:15:00Z', '2026-10-25T00:45:00Z']);
    expect(openAt(def, [], zone, t('2026-10-25T02:30:00+01:00'))).toBe(false);
    expect(utc(nextEdge(def, [], zone, t('2026-10-25T02:30:00+01:00')))).toBe('2026-10-26T01:15:00Z');
  });

  it('spring forward (2026-03-29, 02:00 CET → 03:00 CEST): a start in the gap starts when the gap ends', () => {
    expect(run(daily({ from: hm(2, 30), to: hm(4) }), zone, t('2026-03-29T01:00:00+01:00'))).toEqual(['2026-03-29T01:00:00Z', '2026-03-29T02:00:00Z']);
    // An interval from the evening before that ends inside the gap ends when the gap ends.
    expect(run(daily({ from: hm(22), to: hm(2, 30) }), zone, t('2026-03-28T21:00:00+01:00'))).toEqual(['2026-03-28T21:00:00Z', '2026-03-29T01:00:00Z']);
  });

  it('spring forward: an interval wholly inside the gap is empty that day and the run skips it', () => {
    const def = daily({ from: hm(2), to: hm(2, 30) });
    expect(utc(nextEdge(def, [], zone, t('2026-03-29T00:00:00+01:00')))).toBe('2026-03-30T00:00:00Z'); // 02:00 CEST on Monday
    expect(openAt(def, [], zone, t('2026-03-29T03:00:00+02:00'))).toBe(false);
    // Touching intervals around the gap are one run: 01:00–02:00 and 02:30–04:00 meet at 03:00 CEST.
    const around = daily({ from: hm(1), to: hm(2) }, { from: hm(2, 30), to: hm(4) });
    expect(run(around, zone, t('2026-03-29T00:30:00+01:00'))).toEqual(['2026-03-29T00:00:00Z', '2026-03-29T02:00:00Z']);
  });
});

describe('America/New_York (EST −05:00, EDT −04:00)', () => {
  const zone = 'America/New_York';

  it('spring forward (2026-03-08, 02:00 EST → 03:00 EDT): 02:30–03:30 opens at 03:00 EDT', () => {
    expect(run(daily({ from: hm(2, 30), to: hm(3, 30) }), zone, t('2026-03-08T01:00:00-05:00'))).toEqual(['2026-03-08T07:00:00Z', '2026-03-08T07:30:00Z']);
  });

  it('fall back (2026-11-01, 02:00 EDT → 01:00 EST): 01:30–02:00 runs through both 01:30s, an hour and a half', () => {
    expect(run(daily({ from: hm(1, 30), to: hm(2) }), zone, t('2026-11-01T01:00:00-04:00'))).toEqual(['2026-11-01T05:30:00Z', '2026-11-01T07:00:00Z']);
    expect(openAt(daily({ from: hm(1, 30), to: hm(2) }), [], zone, t('2026-11-01T01:15:00-05:00'))).toBe(true);
  });

  it('a night shift across the fall-back night is an hour longer', () => {
    expect(run(daily({ from: hm(22), to: hm(6) }), zone, t('2026-10-31T21:00:00-04:00'))).toEqual(['2026-11-01T02:00:00Z', '2026-11-01T11:00:00Z']);
  });
});

describe('Australia/Lord_Howe (+10:30, +11:00 in summer: a 30-minute shift at 02:00)', () => {
  const zone = 'Australia/Lord_Howe';

  it('fall back (2026-04-05, 02:00 +11:00 → 01:30 +10:30): 01:00–02:00 lasts 90 minutes', () => {
    expect(run(daily({ from: hm(1), to: hm(2) }), zone, t('2026-04-05T00:30:00+11:00'))).toEqual(['2026-04-04T14:00:00Z', '2026-04-04T15:30:00Z']);
  });

  it('spring forward (2026-10-04, 02:00 +10:30 → 02:30 +11:00): 02:10–03:00 opens at 02:30, for 30 minutes', () => {
    expect(run(daily({ from: hm(2, 10), to: hm(3) }), zone, t('2026-10-04T01:00:00+10:30'))).toEqual(['2026-10-03T15:30:00Z', '2026-10-03T16:00:00Z']);
  });
});

describe('zones without DST', () => {
  it('Asia/Kolkata (+05:30): the same instants all year', () => {
    const def = daily({ from: hm(9), to: hm(17, 30) });
    expect(run(def, 'Asia/Kolkata', t('2026-01-15T08:00:00+05:30'))).toEqual(['2026-01-15T03:30:00Z', '2026-01-15T12:00:00Z']);
    expect(run(def, 'Asia/Kolkata', t('2026-07-15T08:00:00+05:30'))).toEqual(['2026-07-15T03:30:00Z', '2026-07-15T12:00:00Z']);
  });

  it('UTC: a night interval crosses midnight, also on 31 December', () => {
    expect(run(daily({ from: hm(23), to: hm(1) }), 'UTC', t('2026-12-31T12:00:00Z'))).toEqual(['2026-12-31T23:00:00Z', '2027-01-01T01:00:00Z']);
  });
});

describe('a day whose midnight does not exist (America/Santiago, 2026-09-06: 24:00 → 01:00)', () => {
  it('an interval from 00:00 starts when the day does, at 01:00', () => {
    expect(run(daily({ from: 0, to: hm(2) }), 'America/Santiago', t('2026-09-05T23:00:00-04:00'))).toEqual(['2026-09-06T04:00:00Z', '2026-09-06T05:00:00Z']);
  });
});
