import { describe, expect, it } from 'vitest';
import { ALWAYS, type DoorPolicy, type ScheduleStates } from '../../src/access/model.js';
import { FirstPersonIn, MAX_UNOBSERVED_MS } from '../../src/access/policy/first-person-in.js';

const MIN = 60_000;
const T0 = Date.parse('2026-11-23T08:00:00Z');

/**
 * Schedules as explicit open ranges [from, to) per schedule id: the test says exactly when each
 * one is open, so an interval's end is where the test put it.
 */
class RangeSchedules implements ScheduleStates {
  private readonly ids: string[];
  constructor(private readonly open: Record<string, Array<[number, number]>>) {
    this.ids = Object.keys(open);
  }

  slotOf(scheduleId: string | null): number {
    if (scheduleId === null) return ALWAYS;
    const i = this.ids.indexOf(scheduleId);
    if (i < 0) throw new Error(`unknown schedule ${scheduleId}`);
    return i + 1;
  }

  isOpen(slot: number, at: number): boolean {
    if (slot === ALWAYS) return true;
    const ranges = this.open[this.ids[slot - 1]!] ?? [];
    return ranges.some(([from, to]) => at >= from && at < to);
  }

  isHoliday(): boolean {
    return false;
  }
}

function door(id: string, over: Partial<DoorPolicy> = {}): DoorPolicy {
  return { id, mode: 'scheduled-unlock', unlockSchedule: 'hours', firstPersonIn: true, ...over };
}

// Open 08:00–12:00 and 13:00–18:00: two intervals with a one-hour lunch gap.
const hours = new RangeSchedules({ hours: [[T0, T0 + 240 * MIN], [T0 + 300 * MIN, T0 + 600 * MIN]] });

describe('FirstPersonIn', () => {
  it('without first-person-in, a scheduled-unlock door follows its schedule; card doors are never held', () => {
    const fpi = new FirstPersonIn([door('lobby', { firstPersonIn: false }), door('office', { mode: 'card', unlockSchedule: null, firstPersonIn: false })], hours);
    expect(fpi.scheduledDoors()).toEqual(['lobby']);
    expect(fpi.shouldBeUnlocked('lobby', T0 - 1)).toBe(false);
    expect(fpi.shouldBeUnlocked('lobby', T0)).toBe(true);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 240 * MIN)).toBe(false);
    expect(fpi.shouldBeUnlocked('office', T0)).toBe(false);
    expect(fpi.shouldBeUnlocked('nowhere', T0)).toBe(false);
    expect(fpi.onGranted('lobby', true, T0)).toBe(false); // nothing to start
  });

  it('an open interval waits for a privileged person; an unprivileged grant does not start it', () => {
    const fpi = new FirstPersonIn([door('lobby')], hours);
    expect(fpi.shouldBeUnlocked('lobby', T0 + MIN)).toBe(false);
    expect(fpi.onGranted('lobby', false, T0 + 2 * MIN)).toBe(false);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 2 * MIN)).toBe(false);
    expect(fpi.onGranted('lobby', true, T0 + 3 * MIN)).toBe(true);
    expect(fpi.started('lobby')).toBe(true);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 3 * MIN)).toBe(true);
    // A second privileged person does not "start" it again.
    expect(fpi.onGranted('lobby', true, T0 + 4 * MIN)).toBe(false);
  });

  it('a privileged grant while the schedule is closed starts nothing', () => {
    const fpi = new FirstPersonIn([door('lobby')], hours);
    expect(fpi.onGranted('lobby', true, T0 - MIN)).toBe(false);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 1000)).toBe(false);
  });

  it('resets when the interval ends: after lunch the door waits for its next first person', () => {
    const fpi = new FirstPersonIn([door('lobby')], hours);
    fpi.onGranted('lobby', true, T0 + MIN);
    // Looked at every 30 s, as the door hold does several times a second.
    for (let t = T0 + MIN; t < T0 + 240 * MIN; t += 30_000) expect(fpi.shouldBeUnlocked('lobby', t)).toBe(true);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 240 * MIN)).toBe(false);
    expect(fpi.started('lobby')).toBe(false);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 300 * MIN)).toBe(false);
    expect(fpi.onGranted('lobby', true, T0 + 301 * MIN)).toBe(true);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 302 * MIN)).toBe(true);
  });

  it('never looked at during the closed gap: the long silence alone ends the started interval (fail secure)', () => {
    const fpi = new FirstPersonIn([door('lobby')], hours);
    fpi.onGranted('lobby', true, T0 + MIN);
    expect(fpi.shouldBeUnlocked('lobby', T0 + MIN + MAX_UNOBSERVED_MS)).toBe(true);
    // Next look after lunch, in another interval: it must not carry the morning's first person over.
    expect(fpi.shouldBeUnlocked('lobby', T0 + 310 * MIN)).toBe(false);
    // The same holds inside one interval when nobody looked for over a minute.
    fpi.onGranted('lobby', true, T0 + 311 * MIN);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 311 * MIN + MAX_UNOBSERVED_MS + 1)).toBe(false);
  });

  it('a read older than the latest look (a decision that waited) starts the interval only if it is provably the same one', () => {
    const fpi = new FirstPersonIn([door('lobby')], hours);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 10 * MIN)).toBe(false);
    expect(fpi.onGranted('lobby', true, T0 + 10 * MIN - 5000)).toBe(true);
    expect(fpi.shouldBeUnlocked('lobby', T0 + 10 * MIN + 250)).toBe(true);
    // A read from before lunch, looked at after lunch: a different interval.
    const later = new FirstPersonIn([door('lobby')], hours);
    expect(later.shouldBeUnlocked('lobby', T0 + 300 * MIN + 10_000)).toBe(false);
    expect(later.onGranted('lobby', true, T0 + 240 * MIN - 1000)).toBe(false);
    expect(later.shouldBeUnlocked('lobby', T0 + 300 * MIN + 10_250)).toBe(false);
  });

  it('a door whose unlock schedule is null is open at any time and still waits for its first person', () => {
    const fpi = new FirstPersonIn([door('lobby', { unlockSchedule: null })], hours);
    expect(fpi.shouldBeUnlocked('lobby', T0 - 100 * MIN)).toBe(false);
    expect(fpi.onGranted('lobby', true, T0 - 100 * MIN)).toBe(true);
    expect(fpi.shouldBeUnlocked('lobby', T0 - 100 * MIN + 1000)).toBe(true);
  });

  it('a reload keeps a started interval when the door keeps its schedule and first-person-in, and drops it otherwise', () => {
    const fpi = new FirstPersonIn([door('lobby'), door('side')], hours);
    fpi.onGranted('lobby', true, T0 + MIN);
    fpi.onGranted('side', true, T0 + MIN);
    const renumbered = new RangeSchedules({ other: [], hours: [[T0, T0 + 240 * MIN]] });
    fpi.setModel([door('lobby'), door('side', { unlockSchedule: 'other' }), door('new')], renumbered);
    expect(fpi.shouldBeUnlocked('lobby', T0 + MIN + 1000)).toBe(true);
    expect(fpi.started('side')).toBe(false);
    expect(fpi.scheduledDoors()).toEqual(['lobby', 'side', 'new']);
    // Hours shortened by the reload so that it is closed now: the next look relocks.
    fpi.setModel([door('lobby')], new RangeSchedules({ hours: [[T0, T0 + MIN]] }));
    expect(fpi.shouldBeUnlocked('lobby', T0 + MIN + 2000)).toBe(false);
    expect(fpi.started('lobby')).toBe(false);
  });
});
