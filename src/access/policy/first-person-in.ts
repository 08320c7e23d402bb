import type { DoorPolicy, ScheduleStates } from '../model.js';

/*
 * Scheduled unlock and first-person-in, as state over time. A door in mode 'scheduled-unlock'
 * is held unlocked while its `unlockSchedule` is open (src/doors/door-hold.ts does the holding).
 * With `firstPersonIn`, an open interval does not unlock the door by itself: it starts only once
 * a member of a firstPersonIn group has been granted at that door during the interval (so a
 * snowed-in morning does not leave the lobby open with nobody there), and the door relocks
 * when the interval ends; the next interval waits for its own first person.
 *
 * Pure: time is an argument and the schedules are the ScheduleStates the index uses.
 *
 * How the end of an interval is noticed. ScheduleStates says only whether a slot is open at an
 * instant, not which interval that instant belongs to, so this class remembers, per door, the
 * last instant it looked and what it saw. An interval has ended when a look finds the schedule
 * closed. Between two looks that both find it open, the schedule can have closed and opened
 * again only if the looks are further apart than the shortest closed gap; schedule edges fall on
 * whole local minutes, so a closed gap lasts at least one minute of real time (a DST jump can
 * only merge two intervals, never shorten a gap). Looks no more than MAX_UNOBSERVED_MS apart are
 * therefore proof of one interval; after a longer silence the door forgets its first person
 * (fail secure: the next privileged badge starts it again). The door-hold tick looks at every
 * scheduled door several times a second, so in the gateway this never happens in practice.
 */

/** The shortest possible closed gap between two intervals: one minute (see above). */
export const MAX_UNOBSERVED_MS = 60_000;

/** What door-hold.ts needs from the scheduled doors: which they are, and whether each should be unlocked now. */
export interface ScheduledUnlocks {
  scheduledDoors(): readonly string[];
  shouldBeUnlocked(doorId: string, at: number): boolean;
}

interface ScheduledDoor {
  readonly scheduleId: string | null;
  readonly slot: number;
  readonly firstPersonIn: boolean;
  /** Whether a privileged person has started the current open interval. */
  started: boolean;
  /** The latest instant looked at, and whether the schedule was open then. */
  lookedAt: number;
  openThen: boolean;
}

export class FirstPersonIn implements ScheduledUnlocks {
  private doors = new Map<string, ScheduledDoor>();
  private ids: readonly string[] = [];
  private states!: ScheduleStates;

  constructor(doors: readonly DoorPolicy[], states: ScheduleStates) {
    this.setModel(doors, states);
  }

  /**
   * A reload's doors and schedules (new slots). A door that keeps its unlock schedule id and
   * first-person-in keeps its started interval: a reload at 10:00 must not relock the lobby
   * until someone privileged comes by. If the schedule's hours changed so that it is closed
   * now, the next look sees that and relocks.
   */
  setModel(doors: readonly DoorPolicy[], states: ScheduleStates): void {
    const next = new Map<string, ScheduledDoor>();
    for (const policy of doors) {
      if (policy.mode !== 'scheduled-unlock') continue;
      const was = this.doors.get(policy.id);
      const keep = was !== undefined && was.scheduleId === policy.unlockSchedule && was.firstPersonIn === policy.firstPersonIn;
      next.set(policy.id, {
        scheduleId: policy.unlockSchedule,
        slot: states.slotOf(policy.unlockSchedule),
        firstPersonIn: policy.firstPersonIn,
        started: keep ? was.started : false,
        lookedAt: keep ? was.lookedAt : -Infinity,
        openThen: keep ? was.openThen : false,
      });
    }
    this.states = states;
    this.doors = next;
    this.ids = Object.freeze([...next.keys()]);
  }

  scheduledDoors(): readonly string[] {
    return this.ids;
  }

  /**
   * A read was granted at `doorId`. Returns true when this read started the door's scheduled
   * unlock (the caller logs it and may ask the door hold to act now rather than at its next tick).
   */
  onGranted(doorId: string, personIsPrivileged: boolean, at: number): boolean {
    const door = this.doors.get(doorId);
    if (door === undefined || !door.firstPersonIn) return false;
    const open = this.look(door, at);
    if (!personIsPrivileged || !open || door.started) return false;
    // A read older than the latest look (a decision that waited) starts the interval only if
    // it provably belongs to the same one.
    if (at < door.lookedAt && !this.sameInterval(door, at)) return false;
    door.started = true;
    return true;
  }

  /** Whether the door should be held unlocked at `at`: its schedule is open, and (first-person-in) started. */
  shouldBeUnlocked(doorId: string, at: number): boolean {
    const door = this.doors.get(doorId);
    if (door === undefined) return false;
    const open = this.look(door, at);
    if (!open || !door.firstPersonIn) return open;
    return door.started && (at >= door.lookedAt || this.sameInterval(door, at));
  }

  /** Whether first-person-in has started the door's current interval, for the status page. */
  started(doorId: string): boolean {
    return this.doors.get(doorId)?.started ?? false;
  }

  /**
   * Reads the schedule at `at` and, when `at` is not older than the latest look, records it:
   * a closed schedule, or a silence longer than MAX_UNOBSERVED_MS, ends the started interval.
   * Returns whether the schedule is open at `at`.
   */
  private look(door: ScheduledDoor, at: number): boolean {
    const open = this.states.isOpen(door.slot, at);
    if (at < door.lookedAt) return open;
    if (!open || at - door.lookedAt > MAX_UNOBSERVED_MS) door.started = false;
    door.lookedAt = at;
    door.openThen = open;
    return open;
  }

  /** `at` (older than the latest look) and the latest look lie in one open interval for certain. */
  private sameInterval(door: ScheduledDoor, at: number): boolean {
    return door.openThen && door.lookedAt - at <= MAX_UNOBSERVED_MS && this.states.isOpen(door.slot, at);
  }
}
