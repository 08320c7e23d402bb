import type { ScheduleStates } from '../../src/access/model.js';

/**
 * A ScheduleStates for tests, written out by hand: each schedule is open on a list of [from, to)
 * instants, holidays are [from, to) instants too. The real one (src/access/schedule/) computes
 * these from weekly intervals in the site's zone; the decision only needs the answers.
 */
export class ListedSchedules implements ScheduleStates {
  private readonly slots = new Map<string, number>();
  private readonly open: (readonly [number, number])[][] = [[]];
  /** Every isOpen call, to show where the decision does and does not ask. */
  asked = 0;

  constructor(
    schedules: Record<string, readonly (readonly [number, number])[]>,
    private readonly holidays: readonly (readonly [number, number])[] = [],
  ) {
    for (const [id, ranges] of Object.entries(schedules)) {
      this.slots.set(id, this.open.length);
      this.open.push([...ranges]);
    }
  }

  slotOf(scheduleId: string | null): number {
    if (scheduleId === null) return 0;
    const slot = this.slots.get(scheduleId);
    if (slot === undefined) throw new Error(`unknown schedule ${scheduleId}`);
    return slot;
  }

  isOpen(slot: number, at: number): boolean {
    this.asked++;
    if (slot === 0) return true;
    return (this.open[slot] ?? []).some(([from, to]) => at >= from && at < to);
  }

  isHoliday(at: number): boolean {
    return this.holidays.some(([from, to]) => at >= from && at < to);
  }
}
