import type { CompiledGroups } from './derive.js';
import type { ScheduleStates } from './model.js';
import { ALWAYS } from './model.js';

/*
 * What each access group opens, shared by all its members: a person's record holds one window
 * per membership naming the group (record-layout.ts, groupWindowKey), not one per door, and a
 * decision looks the door up here. Expanded per door, a member's four windows made a 17-double
 * record across two cache lines and tripled the tables (101 → 293 MB at 1M people, 10,000
 * groups); this table is a few hundred kilobytes and, being read by every member, stays in
 * cache. Pairs are (door number, schedule slot), grouped by group, in two flat int arrays.
 */

export const REACH_NONE = 0;
export const REACH_CLOSED = 1;
export const REACH_OPEN = 2;

export class GroupDoors {
  private readonly numbers = new Map<string, number>();
  private readonly ids: string[] = [];
  /** Group g's pairs are pairs[2·starts[g] … 2·starts[g+1]). */
  private readonly starts: Int32Array;
  private readonly pairs: Int32Array;

  constructor(groups: CompiledGroups, doorNumber: (door: string) => number) {
    const flat: number[] = [];
    const starts = [0];
    for (const [id, group] of groups) {
      this.numbers.set(id, this.ids.length);
      this.ids.push(id);
      for (const { door, slot } of group.doors) flat.push(doorNumber(door), slot);
      starts.push(flat.length / 2);
    }
    this.starts = Int32Array.from(starts);
    this.pairs = Int32Array.from(flat);
  }

  /** The group's number in this table, or -1 for a group the model does not have (it opens nothing). */
  numberOf(group: string): number {
    return this.numbers.get(group) ?? -1;
  }

  idOf(n: number): string | undefined {
    return this.ids[n];
  }

  /** Whether group `g` opens `door` at `at`: not at all, through a closed schedule only, or now. */
  reach(g: number, door: number, at: number, states: ScheduleStates | null): number {
    const pairs = this.pairs;
    const end = 2 * this.starts[g + 1]!;
    let reach = REACH_NONE;
    for (let i = 2 * this.starts[g]!; i < end; i += 2) {
      if (pairs[i] !== door) continue;
      const slot = pairs[i + 1]!;
      if (slot === ALWAYS || (states !== null && states.isOpen(slot, at))) return REACH_OPEN;
      reach = REACH_CLOSED;
    }
    return reach;
  }

  /** Whether group `g` has `door` in any of its zones (a window out of its bounds then says outside_window). */
  reaches(g: number, door: number): boolean {
    const pairs = this.pairs;
    const end = 2 * this.starts[g + 1]!;
    for (let i = 2 * this.starts[g]!; i < end; i += 2) if (pairs[i] === door) return true;
    return false;
  }

  /** The group's (door number, slot) pairs, for explanations (AccessIndex.personWindows). */
  doorsOf(g: number): { door: number; slot: number }[] {
    const out: { door: number; slot: number }[] = [];
    for (let i = 2 * this.starts[g]!; i < 2 * this.starts[g + 1]!; i += 2) out.push({ door: this.pairs[i]!, slot: this.pairs[i + 1]! });
    return out;
  }
}
