import { GroupDoors, REACH_CLOSED, REACH_OPEN } from './group-doors.js';
import { sourceOf } from './grant-source.js';
import type { StoredWindow } from './index-inputs.js';
import { ALWAYS, type ScheduleStates } from './model.js';
import * as layout from './record-layout.js';

/*
 * Reading a record's windows (record-layout.ts): the decision's loop over them, and the same
 * windows told back for explanations and tests. Functions over the pool's doubles, so that the
 * hot loop stays one flat function V8 inlines into AccessIndex.matchWindows.
 */

/**
 * What a holder's windows say about one door at one instant (AccessIndex.matchWindows), as a
 * small integer so that the badge path allocates nothing: no window for the door; windows,
 * none inside its from/to; inside one, but its schedule is closed; or GRANTED + the source code
 * of the window that opens it.
 */
export const NO_GRANT = 0;
export const OUTSIDE_WINDOW = 1;
export const OUTSIDE_SCHEDULE = 2;
export const GRANTED = 16;

const { STRIDE, DOOR_UNIT, GROUP_KEY_MIN, STANDING_KEY_MIN } = layout;

/**
 * What the record's windows say about `door` (a configuredDoor number) at `at`: NO_GRANT,
 * OUTSIDE_WINDOW, OUTSIDE_SCHEDULE, or GRANTED + the opening window's source code. A window
 * that grants wins; else one inside its bounds whose schedule is closed says more than one
 * whose bounds are over.
 */
export function matchWindows(data: Float64Array, record: number, door: number, at: number, states: ScheduleStates | null, groups: GroupDoors | null): number {
  const flags = data[record + 1]!;
  const start = layout.windowsAt(record, flags);
  const end = start + layout.windowSpan(flags);
  const low = door * DOOR_UNIT;
  const high = low + DOOR_UNIT;
  const filterBit = layout.doorFilterBit(door);
  let match = NO_GRANT;
  for (let i = start; i < end; ) {
    const key = data[i]!;
    if (key >= low && key < high) {
      const from = data[i + 1]!;
      const to = data[i + 2]!;
      i += STRIDE;
      if (at < from || at >= to) {
        if (match === NO_GRANT) match = OUTSIDE_WINDOW;
        continue;
      }
      const rest = key - low;
      const slot = layout.restSlot(rest);
      // A slot other than 0 exists only under a model (putPerson refuses one without states).
      if (slot === ALWAYS || states!.isOpen(slot, at)) return GRANTED + layout.restSource(rest);
      match = OUTSIDE_SCHEDULE;
      continue;
    }
    if (key < GROUP_KEY_MIN) {
      i += STRIDE; // another door's window
      continue;
    }
    // A membership. Its group's table is read only when the door's filter bit is set in the key.
    if ((key & filterBit) !== 0) {
      match = matchGroup(match, key, door, at, data, i, states, groups!);
      if (match >= GRANTED) return match;
    }
    i += key >= STANDING_KEY_MIN ? 1 : STRIDE;
  }
  return match;
}

/**
 * One membership window's say about `door`, folded into what the earlier windows said. For a
 * bounded membership the group's table is asked first: only when the group has the door are
 * the window's bounds read.
 */
function matchGroup(match: number, key: number, door: number, at: number, data: Float64Array, i: number, states: ScheduleStates | null, groups: GroupDoors): number {
  const g = layout.keyGroup(key);
  if (key < STANDING_KEY_MIN) {
    if (!groups.reaches(g, door)) return match;
    if (at < data[i + 1]! || at >= data[i + 2]!) return match === NO_GRANT ? OUTSIDE_WINDOW : match;
  }
  const reach = groups.reach(g, door, at, states);
  if (reach === REACH_OPEN) return GRANTED + layout.restSource(layout.keyRest(key));
  return reach === REACH_CLOSED ? OUTSIDE_SCHEDULE : match;
}

/** A record's windows as stored windows: a membership is told as the windows of its group's doors. */
export function storedWindows(data: Float64Array, record: number, doorId: (n: number) => string, groups: GroupDoors | null): StoredWindow[] {
  const flags = data[record + 1]!;
  const start = layout.windowsAt(record, flags);
  const end = start + layout.windowSpan(flags);
  const windows: StoredWindow[] = [];
  for (let i = start; i < end; i += layout.windowSize(data[i]!)) {
    const key = data[i]!;
    const source = sourceOf(layout.restSource(layout.keyRest(key)));
    const standing = key >= STANDING_KEY_MIN;
    const from = standing ? -Infinity : data[i + 1]!;
    const to = standing ? Infinity : data[i + 2]!;
    if (key >= GROUP_KEY_MIN) {
      for (const { door, slot } of groups!.doorsOf(layout.keyGroup(key))) windows.push({ door: doorId(door), from, to, slot, source });
      continue;
    }
    windows.push({ door: doorId(layout.keyDoor(key)), from, to, slot: layout.restSlot(layout.keyRest(key)), source });
  }
  return windows;
}

/** How many windows lie in [start, end) (their sizes differ: record-layout.ts). */
export function countWindows(data: Float64Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i += layout.windowSize(data[i]!)) n++;
  return n;
}
