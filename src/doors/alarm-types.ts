/*
 * Door alarms from the contact sensor (door-alarms.ts raises them): a door held open past its
 * limit, or opened with no grant, pulse or hold behind it (forced). An alarm is raised, shown,
 * acknowledged by an operator (who and when are kept) and cleared when the door is closed
 * again; it leaves the list once it is both acknowledged and cleared.
 */

export type AlarmKind = 'held_open' | 'forced_open';

export interface DoorAlarm {
  /** Stable for the alarm's life, printable, no row id: `<door>:<kind>:<raisedAt ms>`. */
  readonly id: string;
  readonly door: string;
  readonly kind: AlarmKind;
  readonly raisedAt: number;
  readonly acknowledgedAt: number | null;
  readonly acknowledgedBy: string | null;
  /** When the door was closed again; null while it is still open. */
  readonly clearedAt: number | null;
}

export interface AlarmChange {
  readonly change: 'raised' | 'acknowledged' | 'cleared';
  readonly alarm: DoorAlarm;
}

export type AcknowledgeOutcome = { status: 'acknowledged'; alarm: DoorAlarm } | { status: 'already'; alarm: DoorAlarm } | { status: 'not_found' };

/** What the console, the MQTT events and the metrics read of the alarms. */
export interface AlarmSource {
  /** Raised and not yet both acknowledged and cleared, oldest first. */
  active(): DoorAlarm[];
  onChange(listener: (c: AlarmChange) => void): () => void;
  acknowledge(id: string, by: string, now: number): AcknowledgeOutcome;
}
