import { messageExpirySec } from '../protocol.js';
import type { IClientPublishOptions } from 'mqtt';
import type { DoorConfig, DoorDriverKind } from '../../config/schema.js';
import type { DoorAck, DoorState } from '../protocol.js';

/** One MQTT message a driver wants published, in order with the others of its unlock. */
export interface DriverMessage {
  topic: string;
  payload: string;
  options: IClientPublishOptions;
}

/**
 * What a device message means to the relay. `ack` carries the id of the command it answers
 * (the lintel firmware, a Shelly RPC response); `confirmed` is an ack without one: the device
 * reported its relay switched on, which answers the oldest unlock still waiting (Tasmota,
 * zigbee2mqtt). `state` is merged over what the relay knew of the door.
 */
export type DriverEvent =
  | { kind: 'ack'; ack: DoorAck }
  | { kind: 'confirmed' }
  /** `at`: the device's own clock where it says one (lintel firmware), else when it arrived. */
  | { kind: 'state'; state: Partial<Pick<DoorState, 'online' | 'relay' | 'contact' | 'fw'>>; at?: number }
  /** A zero-length retained state: the door was decommissioned, forget what was known. */
  | { kind: 'cleared' };

/** What a driver's device tells the gateway, for the status page and the README's table. */
export interface DriverReports {
  /** command-id: every unlock is answered by id; relay-state: inferred from the relay turning on. */
  acks: 'command-id' | 'relay-state';
  /** Whether the device reports its relay (and the gateway's stuck-on backstop can watch it). */
  relay: boolean;
  /** Whether a door contact sensor is reported. */
  contact: boolean;
}

/**
 * How the relay treats a driver's device: each is a fact about the device's protocol, so it is
 * declared by the driver, and DoorRelay asks these instead of testing which driver it has.
 */
export interface DriverBehaviour {
  /**
   * whole: each state message carries every field and replaces what was known (lintel's
   * retained state, its last will included); fields: a message carries one field or a few (an
   * LWT says online, a power report the relay) and is merged over what was known.
   */
  state: 'whole' | 'fields';
  /**
   * Whether an offline device's relay is still what it last said. True only where the offline
   * message itself names the relay (lintel's will); otherwise a device gone offline may be
   * anywhere, so the relay shows unknown.
   */
  relayKnownOffline: boolean;
  /**
   * Who ends a pulse. device: the ON carries its own auto-off (expiresAt + firmware relock,
   * toggle_after, PulseTime, on_time). gateway: the device has none, so the relay publishes the
   * OFF itself after pulseMs (door-relay.ts, pulse-ender.ts).
   */
  pulseEnd: 'device' | 'gateway';
  /**
   * Whether the stuck-on backstop (relock-backstop.ts) watches this door: a relay reported on
   * past pulseMs + grace is sent relock(). Only where the device has an OFF and its own relock
   * cannot be relied on; never where relock() is null.
   */
  relockBackstop: boolean;
  /**
   * Whether an unlock is refused (`unreachable`) while the device is reported offline. For a
   * device with no expiry and no timer of its own, an ON it cannot take now could only be
   * executed late, if ever; better to say so in the decision than to send it.
   */
  refuseWhileOffline: boolean;
}

/**
 * One door's translation between lintel and its device. Pure: builds payloads and reads them,
 * never touches the network or a clock (the relay passes `now`), so each is unit-tested on its
 * own and the relay keeps the one MQTT client, its no-replay store and its connection checks.
 */
export interface DoorDriver {
  readonly kind: DoorDriverKind;
  readonly reports: DriverReports;
  readonly behaviour: DriverBehaviour;
  /** Exact topics (no wildcards) the relay subscribes to for this door and routes to handle(). */
  readonly topics: readonly string[];
  /**
   * The messages of one unlock: a pulse of the door's pulseMs (ended as `behaviour.pulseEnd` says).
   * `readAt`: when the badge was read; `leftMs`: what is left of the command's lifetime now
   * (the MQTT 5 message expiry is set from it, never from the whole lifetime).
   */
  unlock(commandId: string, readAt: number, leftMs: number): readonly DriverMessage[];
  /** Switch the relay off now; always safe to deliver late. Null where the protocol has none. */
  relock(): readonly DriverMessage[] | null;
  /** A message on one of `topics`; an empty list when it means nothing to this door. Throws ProtocolError when malformed. */
  handle(topic: string, payload: Buffer, now: number): DriverEvent[];
}

export interface DriverContext {
  door: DoorConfig;
  /** mqtt.topicPrefix and site id: where lintel's own topics (and a Shelly's RPC replies) live. */
  prefix: string;
  siteId: string;
  protocolVersion: 4 | 5;
}

/** An off-the-shelf relay with a device-side auto-off: reported field by field, watched by the backstop. */
export const TIMED_DEVICE: DriverBehaviour = Object.freeze({ state: 'fields', relayKnownOffline: false, pulseEnd: 'device', relockBackstop: true, refuseWhileOffline: false });

/**
 * Publish options for a command to an off-the-shelf device. None of them knows a command's
 * expiry, so the gateway makes sure nothing holds one for later: QoS 0, which a broker does
 * not queue for a device whose persistent session is offline (mosquitto's default,
 * queue_qos0_messages false) and mqtt.js does not replay; never retained, so a device that
 * subscribes later is not handed an old unlock; and, on MQTT 5, the broker's message expiry.
 */
export function deviceCommandOptions(ctx: DriverContext, leftMs: number = ctx.door.commandTtlMs): IClientPublishOptions {
  return ctx.protocolVersion === 5 ? { qos: 0, retain: false, properties: { messageExpiryInterval: messageExpirySec(leftMs) } } : { qos: 0, retain: false };
}

/** Seconds with at most `digits` decimals, from ms, for devices whose timers count seconds. */
export function seconds(ms: number, digits: number): number {
  const f = 10 ** digits;
  return Math.max(1 / f, Math.round((ms / 1000) * f) / f);
}
