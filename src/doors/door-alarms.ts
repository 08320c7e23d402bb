import { runGuarded, type FailureCounter } from '../util/guarded.js';
import type { Logger } from '../util/log.js';
import type { AcknowledgeOutcome, AlarmChange, AlarmKind, AlarmSource, DoorAlarm } from './alarm-types.js';
import type { ContactPosition } from './protocol.js';

/*
 * Door alarms from the contact sensor, as a pure state machine (zwave-js style): every input
 * carries its own `now`, the machine keeps no timer, and the part that feeds it (parts/alarms-part.ts)
 * owns the tick. So every rule below is tested with a manual clock and no broker.
 *
 * - An authorised opening is a pulse that was sent for the door, or an active hold. A pulse's
 *   window runs from the send for commandTtlMs + pulseMs + AUTHORISED_GRACE_MS: the device may
 *   execute the unlock up to commandTtlMs late (the firmware drops it after that), keeps the
 *   strike released for pulseMs, and the grace covers a door pushed at the last moment and
 *   the contact report's trip through the broker.
 * - forced_open: the contact goes from closed to open outside every window and with no hold.
 * - held_open: the contact is still open heldOpenSeconds after the last window ended (or after
 *   it opened, when it opened with none: a forced door left open is both).
 * - Both are cleared when the contact closes, and leave the active list once cleared and
 *   acknowledged, in either order.
 * - `unknown` (the controller is offline, or the gateway lost the broker) neither raises nor
 *   clears: the door's last known position stands until a real reading replaces it, and no
 *   countdown fires while the door cannot be seen.
 * - A door first seen open (the gateway started, the door was already open) is not forced: no
 *   one saw it open. Its held-open countdown starts from that first sight.
 * - Doors whose driver reports no contact (drivers' `reports.contact`) never alarm.
 */

export const AUTHORISED_GRACE_MS = 1000;

export interface AlarmDoorConfig {
  readonly id: string;
  readonly pulseMs: number;
  readonly commandTtlMs: number;
  /** Whether this door's driver reports a contact sensor at all. */
  readonly reportsContact: boolean;
  readonly alarms: { readonly heldOpenSeconds: number; readonly forcedOpen: boolean };
}

export interface DoorAlarmsDeps {
  doors: readonly AlarmDoorConfig[];
  logger: Logger;
  countFailure?: FailureCounter;
}

interface DoorWatch {
  config: AlarmDoorConfig;
  /** The last real reading, `unknown` while the door cannot be seen. */
  seen: ContactPosition;
  /** The last known position (never `unknown` once a reading arrived): what an offline spell keeps. */
  known: 'open' | 'closed' | null;
  /** When the current opening began (or was first seen); null while closed. */
  openedAt: number | null;
  /** End of the latest pulse window; -Infinity before any. */
  authorisedUntil: number;
  held: boolean;
  /** This opening's held_open was raised already: once per opening. */
  heldRaised: boolean;
}

export class DoorAlarms implements AlarmSource {
  private doors = new Map<string, DoorWatch>();
  /** Raised and not yet both acknowledged and cleared; Map order is raise order. */
  private readonly alarms = new Map<string, DoorAlarm>();
  private readonly listeners = new Set<(c: AlarmChange) => void>();

  constructor(private readonly deps: DoorAlarmsDeps) {
    this.setDoors(deps.doors, 0); // nothing is listed yet: the instant is never used
  }

  /**
   * A reload's doors: new limits apply to the doors open now. A door removed, or whose new
   * driver reports no contact, can no longer be closed in our sight: its alarms are cleared
   * now so that they can leave the list once acknowledged.
   */
  setDoors(doors: readonly AlarmDoorConfig[], now: number): void {
    const next = new Map<string, DoorWatch>();
    for (const config of doors) {
      const was = this.doors.get(config.id);
      if (was && config.reportsContact) next.set(config.id, { ...was, config });
      else next.set(config.id, { config, seen: 'unknown', known: null, openedAt: null, authorisedUntil: -Infinity, held: false, heldRaised: false });
    }
    for (const [door, watch] of this.doors) {
      if (watch.config.reportsContact && !next.get(door)?.config.reportsContact) this.clearDoor(door, now);
    }
    this.doors = next;
  }

  /** A pulse was sent for the door (DoorRelay.onPulse): an opening is authorised for its window. */
  pulsed(doorId: string, now: number): void {
    const w = this.doors.get(doorId);
    if (!w) return;
    w.authorisedUntil = Math.max(w.authorisedUntil, now + w.config.commandTtlMs + w.config.pulseMs + AUTHORISED_GRACE_MS);
  }

  /**
   * The doors held unlocked now (DoorHold.status()). A hold that ended leaves a window of its
   * last pulse (pulsed() saw it); marking its end here too keeps the countdown from starting
   * before the hold is over, however the pulses were timed.
   */
  holds(heldDoors: Iterable<string>, now: number): void {
    const held = new Set(heldDoors);
    for (const [door, w] of this.doors) {
      const isHeld = held.has(door);
      if (w.held && !isHeld) w.authorisedUntil = Math.max(w.authorisedUntil, now);
      w.held = isHeld;
    }
  }

  /** The door's contact as its device last reported it (`unknown` for an offline controller). */
  contact(doorId: string, position: ContactPosition, now: number): void {
    const w = this.doors.get(doorId);
    if (!w?.config.reportsContact) return;
    w.seen = position;
    if (position === 'unknown' || position === w.known) return this.tick(now);
    const first = w.known === null;
    w.known = position;
    if (position === 'closed') {
      w.openedAt = null;
      w.heldRaised = false;
      this.clearDoor(doorId, now);
      return;
    }
    w.openedAt = now;
    if (!first && !this.authorised(w, now) && w.config.alarms.forcedOpen) this.raise(doorId, 'forced_open', now);
    this.tick(now);
  }

  /** The gateway lost sight of every door (the broker connection dropped). */
  blind(): void {
    for (const w of this.doors.values()) w.seen = 'unknown';
  }

  /** Raises held_open where a door has been open too long; the part calls it on its interval. */
  tick(now: number): void {
    for (const [door, w] of this.doors) {
      if (w.seen !== 'open' || w.openedAt === null || w.heldRaised || w.held) continue;
      const from = Math.max(w.openedAt, w.authorisedUntil);
      if (now < from + w.config.alarms.heldOpenSeconds * 1000) continue;
      w.heldRaised = true;
      this.raise(door, 'held_open', now);
    }
  }

  active(): DoorAlarm[] {
    return [...this.alarms.values()];
  }

  onChange(listener: (c: AlarmChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** `by`: the actor label (console/operator.ts actorLabel), kept on the alarm. */
  acknowledge(id: string, by: string, now: number): AcknowledgeOutcome {
    const alarm = this.alarms.get(id);
    if (!alarm) return { status: 'not_found' };
    if (alarm.acknowledgedAt !== null) return { status: 'already', alarm };
    const acked: DoorAlarm = { ...alarm, acknowledgedAt: now, acknowledgedBy: by };
    this.settle(acked);
    this.emit({ change: 'acknowledged', alarm: acked });
    return { status: 'acknowledged', alarm: acked };
  }

  private authorised(w: DoorWatch, now: number): boolean {
    return w.held || now <= w.authorisedUntil;
  }

  private raise(door: string, kind: AlarmKind, now: number): void {
    // Ids must be unique while listed: a door closed and forced again in the same millisecond
    // (only a manual clock does that) takes the next one.
    let raisedAt = now;
    while (this.alarms.has(alarmId(door, kind, raisedAt))) raisedAt += 1;
    const alarm: DoorAlarm = { id: alarmId(door, kind, raisedAt), door, kind, raisedAt, acknowledgedAt: null, acknowledgedBy: null, clearedAt: null };
    this.alarms.set(alarm.id, alarm);
    this.emit({ change: 'raised', alarm });
  }

  private clearDoor(door: string, now: number): void {
    for (const alarm of [...this.alarms.values()]) {
      if (alarm.door !== door || alarm.clearedAt !== null) continue;
      const cleared: DoorAlarm = { ...alarm, clearedAt: now };
      this.settle(cleared);
      this.emit({ change: 'cleared', alarm: cleared });
    }
  }

  /** Keeps the alarm's new version in place, or drops it once it is both acknowledged and cleared. */
  private settle(alarm: DoorAlarm): void {
    if (alarm.acknowledgedAt !== null && alarm.clearedAt !== null) this.alarms.delete(alarm.id);
    else this.alarms.set(alarm.id, alarm);
  }

  private emit(change: AlarmChange): void {
    for (const fn of this.listeners) void runGuarded('door alarm listener', () => fn(change), this.deps);
  }
}

export function alarmId(door: string, kind: AlarmKind, raisedAt: number): string {
  return `${door}:${kind}:${raisedAt}`;
}
