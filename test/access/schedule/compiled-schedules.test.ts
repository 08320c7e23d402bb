import { describe, expect, it } from 'vitest';
import type { DayInterval, ScheduleDef } from '../../../src/access/model.js';
import { ALWAYS } from '../../../src/access/model.js';
import { CompiledSchedules } from '../../../src/access/schedule/compiled-schedules.js';
import { openAt } from '../../../src/access/schedule/schedule-time.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const ZONE = 'Europe/Berlin';
const t = (isoWithOffset: string): number => Date.parse(isoWithOffset);
const utc = (ms: number): string => new Date(ms).toISOString().replace('.000', '');
const hm = (h: number, m = 0): number => h * 60 + m;
const weekdays = (id: string, ...intervals: DayInterval[]): ScheduleDef => ({
  id,
  weekly: [intervals, intervals, intervals, intervals, intervals, [], []],
  holiday: [],
});

const office = weekdays('office', { from: hm(8), to: hm(18) });
const cleaners = weekdays('cleaners', { from: hm(20), to: hm(2) });
const holidays = [{ name: 'Christmas', date: '12-25' }];

describe('CompiledSchedules', () => {
  it('numbers schedules 1…n in model order, 0 for "always", and refuses an unknown id', () => {
    const states = new CompiledSchedules({ timeZone: ZONE, schedules: [office, cleaners], holidays });
    expect([states.slotOf(null), states.slotOf('office'), states.slotOf('cleaners')]).toEqual([ALWAYS, 1, 2]);
    expect(states.count).toBe(2);
    expect(() => states.slotOf('nights')).toThrow('unknown schedule "nights"');
    expect(states.isOpen(ALWAYS, t('2026-12-25T03:00:00+01:00'))).toBe(true);
  });

  it('refresh caches every state until the earliest next edge and returns it', () => {
    const states = new CompiledSchedules({ timeZone: ZONE, schedules: [office, cleaners], holidays });
    // Monday 2026-11-23, 10:00: the office is open until 18:00, the cleaners come at 20:00.
    const edge = states.refresh(t('2026-11-23T10:00:00+01:00'));
    expect(utc(edge)).toBe('2026-11-23T17:00:00Z');
    expect([states.validFrom, states.validUntil]).toEqual([t('2026-11-23T10:00:00+01:00'), edge]);
    expect(states.isOpen(1, t('2026-11-23T17:59:59+01:00'))).toBe(true);
    expect(states.isOpen(2, t('2026-11-23T12:00:00+01:00'))).toBe(false);
    expect(utc(states.refresh(edge))).toBe('2026-11-23T19:00:00Z');
    expect(states.isOpen(1, edge)).toBe(false);
  });

  it('answers exactly for instants outside the cached range: an old read time, or a time past the next edge', () => {
    const states = new CompiledSchedules({ timeZone: ZONE, schedules: [office, cleaners], holidays });
    // Before any refresh every read is computed.
    expect(states.isOpen(1, t('2026-11-23T09:00:00+01:00'))).toBe(true);
    states.refresh(t('2026-11-23T19:00:00+01:00'));
    expect(states.isOpen(1, t('2026-11-23T17:59:00+01:00'))).toBe(true); // a read from before the refresh
    expect(states.isOpen(2, t('2026-11-24T01:00:00+01:00'))).toBe(true); // past 20:00, not refreshed yet
    expect(states.isOpen(1, t('2026-12-25T09:00:00+01:00'))).toBe(false); // Christmas is a Friday
  });

  it('isHoliday reads the local date in the site zone', () => {
    const states = new CompiledSchedules({ timeZone: ZONE, schedules: [], holidays });
    expect(states.isHoliday(t('2026-12-25T00:00:00+01:00'))).toBe(true);
    expect(states.isHoliday(t('2026-12-24T23:59:59+01:00'))).toBe(false);
    expect(states.isHoliday(t('2026-12-24T23:30:00Z'))).toBe(true); // 00:30 in Berlin
    expect(states.refresh(t('2026-12-24T23:30:00Z'))).toBe(Infinity); // no schedules: nothing ever changes
  });

  it('refuses a slot it does not have, cached or not', () => {
    const states = new CompiledSchedules({ timeZone: ZONE, schedules: [office], holidays: [] });
    expect(() => states.isOpen(2, 0)).toThrow(RangeError);
    states.refresh(t('2026-11-23T10:00:00+01:00'));
    expect(() => states.isOpen(2, t('2026-11-23T10:00:00+01:00'))).toThrow('no schedule in slot 2 (1…1)');
  });

  it('driven by a timer set to what refresh returns, the cache follows every edge of a week across the DST change', () => {
    const clock = new FakeClock(t('2026-10-22T12:00:00+02:00'));
    const states = new CompiledSchedules({ timeZone: ZONE, schedules: [office, cleaners], holidays });
    const seen: string[] = [];
    const onEdge = (): void => {
      const now = clock.now();
      const next = states.refresh(now);
      expect(states.validFrom <= now && now < states.validUntil).toBe(true); // the reads below hit the cache
      seen.push(`${utc(now)} ${states.isOpen(1, now) ? 'office' : '-'} ${states.isOpen(2, now) ? 'cleaners' : '-'}`);
      clock.setTimeout(onEdge, next - now);
    };
    clock.setTimeout(onEdge, states.refresh(clock.now()) - clock.now());
    clock.advance(5 * 86_400_000); // Thursday noon to Tuesday noon; clocks go back early on Sunday
    expect(seen).toEqual([
      '2026-10-22T16:00:00Z - -', // Thursday 18:00 CEST
      '2026-10-22T18:00:00Z - cleaners',
      '2026-10-23T00:00:00Z - -',
      '2026-10-23T06:00:00Z office -', // Friday
      '2026-10-23T16:00:00Z - -',
      '2026-10-23T18:00:00Z - cleaners',
      '2026-10-24T00:00:00Z - -', // the weekend has no intervals of its own
      '2026-10-26T07:00:00Z office -', // Monday 08:00 CET
      '2026-10-26T17:00:00Z - -',
      '2026-10-26T19:00:00Z - cleaners',
      '2026-10-27T01:00:00Z - -',
      '2026-10-27T07:00:00Z office -',
    ]);
    // Every cached answer on the way agreed with a direct computation.
    for (const line of seen) {
      const at = Date.parse(line.slice(0, 20));
      expect(openAt(office, holidays, ZONE, at)).toBe(line.includes('office'));
    }
  });
});
