import type { DoorAlarm } from '../doors/alarm-types.js';
import type { DecisionEvent } from '../pipeline/recent-decisions.js';

/** A reader refused every read after too many unknown credentials (card guessing). */
export interface ReaderLockAlarm {
  kind: 'reader_locked';
  readerId: string;
  /** ms: when it clears by itself. */
  until: number;
  detail: string;
}

/** A door alarm from its contact sensor (doors/door-alarms.ts), as listed until acknowledged and cleared. */
export interface DoorAlarmEntry extends DoorAlarm {
  detail: string;
}

/** Something an operator should look at now; shown at the top of the page while it lasts. */
export type Alarm = ReaderLockAlarm | DoorAlarmEntry;

/** Everything the status page, /api/status and /health show. Built by the composition root. */
export interface GatewayStatus {
  site: string;
  version: string;
  startedAt: number;
  now: number;
  health: 'ok' | 'degraded' | 'failing';
  checks: Record<string, { ok: boolean; detail: string }>;
  index: { people: number; cards: number; grants: number; doors: number };
  doors: Array<{
    id: string; name: string; driver: string; acks: 'command-id' | 'relay-state' | null; online: boolean | null; relay: string; contact: string; lastAck: string | null;
    /** The last command's publish → ack time (null: none yet, or it was late). */
    ackLatencyMs: number | null;
    /** Held unlocked now: by an operator (who, until when) and/or by its schedule; null: not held. */
    hold: { by: string | null; until: number | null; schedule: boolean } | null;
  }>;
  readers: Array<{ id: string; kind: string; door: string; connected: boolean; lines: number; dropped: { overlong: number; garbage: number }; reconnects: number; lastError: string | null; lastReadAt: number | null }>;
  mqtt: { connected: boolean; url: string };
  upstream: {
    state: string; lastError: string | null; lastSuccessAt: number | null; unknownResources: string[];
    /** The platform's last accepted callback (ms), the last sweep, and the callback subscriptions with their expiry. */
    lastCallbackAt: number | null;
    lastReconcile: { at: number; durationMs: number; changed: number; failed: number } | null;
    subscriptions: Array<{ id: string; state: string; expiresAt: number }>;
    detail: unknown;
  } | null;
  /** Every location (README "Locations"): a config without `locations` lists its one implicit location. Always set by buildStatus. */
  locations?: Array<{ id: string; name: string; connection: string; onDisconnect: string; upstream: NonNullable<GatewayStatus['upstream']> | null }>;
  recent: DecisionEvent[];
  alarms: Alarm[];
}
