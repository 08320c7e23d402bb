import type { DoorDriverKind } from '../config/schema.js';
import type { Logger } from '../util/log.js';
import type { LastAck } from './ack-tracker.js';
import type { DoorRoute } from './door-routes.js';
import type { DriverEvent, DriverReports } from './drivers/index.js';
import type { ContactPosition } from './protocol.js';

/** What the gateway knows of a door, from whatever its device reports (drivers/). */
export interface KnownDoorState {
  online: boolean;
  relay: 'locked' | 'unlocked' | 'unknown';
  contact: ContactPosition;
  /** The device's clock where it reports one (lintel firmware), else when the report arrived. */
  at: number;
  fw?: string;
}

export interface StateEvent {
  doorId: string;
  state: KnownDoorState;
}

export interface DoorStatusEntry {
  doorId: string;
  driver: DoorDriverKind;
  /** What this door's device reports: real acks or inferred ones, relay, contact sensor. */
  reports: DriverReports;
  /** null: no state received yet, or the gateway itself is disconnected and cannot know. */
  online: boolean | null;
  relay: 'locked' | 'unlocked' | 'unknown';
  contact: 'closed' | 'open' | 'unknown';
  stateAt: number | null;
  fw: string | null;
  lastAck: LastAck | null;
  pendingAcks: number;
  /** When this door's latest unlock went unanswered past the ack timeout, with no ack since; null otherwise. */
  ackMissedAt: number | null;
}

type StateReport = Extract<DriverEvent, { kind: 'state' }>;

/**
 * The status side of DoorRelay: what each door's device last said, merged as its driver's
 * behaviour says (a whole retained state replaces what was known, field-by-field reports
 * merge over it), and the listeners that follow it. Knows nothing of MQTT or of commands.
 */
export class DoorStates {
  private readonly states = new Map<string, KnownDoorState>();
  private readonly listeners = new Set<(event: StateEvent) => void>();

  constructor(
    private readonly logger: Logger,
    /** A listener threw (the relay logs and counts it); without it, logged here. */
    private readonly listenerFailed: (err: unknown) => void = (err) => this.logger.error({ err: (err as Error).message }, 'state listener threw'),
  ) {}

  get(doorId: string): KnownDoorState | undefined {
    return this.states.get(doorId);
  }

  /** What another device, or a cleared retained state, said is not this door's state any more. */
  forget(doorId: string): void {
    this.states.delete(doorId);
  }

  /** A device's report for `route`'s door: the door's new known state, announced to listeners. */
  apply(route: DoorRoute, report: StateReport, now: number): KnownDoorState {
    const doorId = route.config.id;
    const behaviour = route.driver.behaviour;
    const prev = behaviour.state === 'whole' ? undefined : this.states.get(doorId);
    const state: KnownDoorState = { online: true, relay: 'unknown', contact: 'unknown', ...prev, ...definedOnly(report.state), at: report.at ?? now };
    // A device gone offline cannot be taken to hold its relay where it last said, unless its
    // offline message itself says where.
    if (!state.online && !behaviour.relayKnownOffline) state.relay = 'unknown';
    this.states.set(doorId, state);
    for (const fn of this.listeners) {
      try {
        fn({ doorId, state });
      } catch (err) {
        this.listenerFailed(err);
      }
    }
    return state;
  }

  /** Returns an unsubscribe function. */
  onState(fn: (event: StateEvent) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** A door's status entry; `live` false (the gateway is disconnected) makes online null. */
  entry(route: DoorRoute, live: boolean, acks: { last: LastAck | null; pending: number; missedAt: number | null }): DoorStatusEntry {
    const { config, driver } = route;
    const s = this.states.get(config.id);
    return {
      doorId: config.id,
      driver: driver.kind,
      reports: driver.reports,
      online: s && live ? s.online : null,
      relay: s?.relay ?? 'unknown',
      contact: s?.contact ?? 'unknown',
      stateAt: s?.at ?? null,
      fw: s?.fw ?? null,
      lastAck: acks.last,
      pendingAcks: acks.pending,
      ackMissedAt: acks.missedAt,
    };
  }
}

/** Fields a driver did not report keep what was known (spread would overwrite them with undefined). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
