import type { CompiledGroups } from './derive.js';
import type { ScheduleStates } from './model.js';
import { ALWAYS } from './model.js';
import { doorFilter } from './record-layout.js';

/*
 * What each access group opens, shared by all its members: a person's record holds one window
 * per membership naming the group (record-layout.ts, groupWindowKey), not one per door, and a
 * decision looks the door up here. Expanded per door, a member's four windows made a 17-double
 * record across two cache lines and tripled the tables (101 → 293 MB at 1M people, 10,000
 * groups); this table is a few hundred kilobytes.
 *
 * One flat Int32Array; group g (the number a membership's key holds) is the offset of its run
 *
 *   [ n, door, slot, door, slot, ... ]        (n pairs of door number and schedule slot)
 *
 * so that a decision reads one run, not a start table and then a pair table (two misses once a
 * million random decisions have evicted both). Runs start at multiples of 8 ints in a
 * page-aligned buffer: a run of up to 3 pairs (the common group) lies in one cache line.
 */

export const REACH_NONE = 0;
export const REACH_CLOSED = 1;
export const REACH_OPEN = 2;

const RUN_ALIGN = 8;

/** ES2024's resizable ArrayBuffer, as in record-pool.ts: V8 reserves it in whole pages. */
function pageAlignedInts(n: number): Int32Array {
  const Ctor = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer;
  const bytes = Math.max(4, n * 4);
  return new Int32Array(new Ctor(bytes, { maxByteLength: bytes }));
}

export class GroupDoors {
  private readonly numbers = new Map<string, number>();
  private readonly ids = new Map<number, string>();
  private readonly filters = new Map<number, number>();
  private readonly table: Int32Array;

  constructor(groups: CompiledGroups, doorNumber: (door: string) => number) {
    const flat: number[] = [];
    for (const [id, group] of groups) {
      while (flat.length % RUN_ALIGN !== 0) flat.push(0);
      const g = flat.length;
      this.numbers.set(id, g);
      this.ids.set(g, id);
      const doors = group.doors.map(({ door }) => doorNumber(door));
      this.filters.set(g, doorFilter(doors));
      flat.push(group.doors.length);
      group.doors.forEach(({ slot }, k) => flat.push(doors[k]!, slot));
    }
    this.table = pageAlignedInts(flat.length);
    this.table.set(flat);
  }

  /** The group's number in this table (its run's offset), or -1 for a group the model does not have (it opens nothing). */
  numberOf(group: string): number {
    return this.numbers.get(group) ?? -1;
  }

  idOf(g: number): string | undefined {
    return this.ids.get(g);
  }

  /** The door filter of group `g` (record-layout.ts doorFilter), stored in its members' keys. */
  filterOf(g: number): number {
    return this.filters.get(g) ?? 0;
  }

  /** Whether group `g` opens `door` at `at`: not at all, through a closed schedule only, or now. */
  reach(g: number, door: number, at: number, states: ScheduleStates | null): number {
    const table = this.table;
    const end = g + 1 + 2 * table[g]!;
    let reach = REACH_NONE;
    for (let i = g + 1; i < end; i += 2) {
      if (table[i] !== door) continue;
      const slot = table[i + 1]!;
      if (slot === ALWAYS || (states !== null && states.isOpen(slot, at))) return REACH_OPEN;
      reach = REACH_CLOSED;
    }
    return reach;
  }

  /** Whether group `g` has `door` in any of its zones (a window out of its bounds then says outside_window). */
  reaches(g: number, door: number): boolean {
    const table = this.table;
    const end = g + 1 + 2 * table[g]!;
    for (let i = g + 1; i < end; i += 2) if (table[i] === door) return true;
    return false;
  }

  /** The group's (door number, slot) pairs, for explanations (AccessIndex.personWindows). */
  doorsOf(g: number): { door: number; slot: number }[] {
    const out: { door: number; slot: number }[] = [];
    const end = g + 1 + 2 * this.table[g]!;
    for (let i = g + 1; i < end; i += 2) out.push({ door: this.table[i]!, slot: this.table[i + 1]! });
    return out;
  }

  /** Bytes of the table, for AccessIndex.tableBytes. */
  get bytes(): number {
    return this.table.byteLength;
  }
}
