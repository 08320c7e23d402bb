import { z } from 'zod';
import { ProtocolError } from '../protocol.js';
import { parseDeviceJson } from './device-json.js';
import { deviceCommandOptions, TIMED_DEVICE, seconds, type DoorDriver, type DriverContext, type DriverEvent, type DriverMessage } from './driver.js';

/*
 * A zigbee2mqtt switch, from zigbee2mqtt.io's device pages ("Switch", "On with timed off") and
 * its MQTT topics guide, with `topic` the device's full topic `<base_topic>/<friendly_name>`:
 * - `<topic>/set` {"state":"ON","on_time":s}: on, then off by itself after s seconds; the
 *   device runs the timer (the Zigbee On/Off cluster's "on with timed off"). An endpoint other
 *   than the first is addressed as `state_l<n>`.
 * - `<topic>`: the device state, {"state":"ON"|"OFF", ...}, published after each command and
 *   on the device's own reports.
 * - `<topic>/availability`: {"state":"online"|"offline"} (retained; "online"/"offline" as plain
 *   text with the legacy availability payload), when availability is enabled in zigbee2mqtt.
 *
 * Late unlocks: neither zigbee2mqtt nor Zigbee knows a command expiry. The gateway publishes
 * only while its broker link is up, at QoS 0, not retained (driver.ts); zigbee2mqtt itself is
 * the subscriber and passes the command on at once (its own retries last seconds, not minutes).
 * Every ON carries on_time = pulseMs, so a late ON relocks on the device — where the device's
 * firmware supports on_time, which zigbee2mqtt's docs say "depends on the switch firmware". For
 * those that ignore it the relay's stuck-on backstop sends {"state":"OFF"} once the reported
 * state stays ON past pulseMs (door-relay.ts). Acks are inferred: the state ON that follows.
 */

const devicePayload = z.record(z.string(), z.unknown());
const availability = z.union([z.looseObject({ state: z.enum(['online', 'offline']) }), z.enum(['online', 'offline'])]);

export class Zigbee2MqttDriver implements DoorDriver {
  readonly kind = 'zigbee2mqtt';
  readonly reports = { acks: 'relay-state', relay: true, contact: false } as const;
  readonly behaviour = TIMED_DEVICE;
  readonly topics: readonly string[];
  private readonly deviceTopic: string;
  private readonly availabilityTopic: string;
  private readonly key: string;

  constructor(private readonly ctx: DriverContext) {
    this.deviceTopic = ctx.door.topic ?? '';
    this.availabilityTopic = `${this.deviceTopic}/availability`;
    this.key = ctx.door.relay.channel === 1 ? 'state' : `state_l${ctx.door.relay.channel}`;
    this.topics = [this.deviceTopic, this.availabilityTopic];
  }

  unlock(_commandId: string, _readAt: number, leftMs: number): readonly DriverMessage[] {
    const payload = JSON.stringify({ [this.key]: 'ON', on_time: seconds(this.ctx.door.pulseMs, 1) });
    return [{ topic: `${this.deviceTopic}/set`, payload, options: deviceCommandOptions(this.ctx, leftMs) }];
  }

  relock(): readonly DriverMessage[] {
    return [{ topic: `${this.deviceTopic}/set`, payload: JSON.stringify({ [this.key]: 'OFF' }), options: deviceCommandOptions(this.ctx) }];
  }

  handle(topic: string, payload: Buffer): DriverEvent[] {
    if (topic === this.availabilityTopic) {
      // The legacy payload is a bare word, not JSON: read it as a JSON string.
      const text = payload.toString('utf8').trim();
      const a = parseDeviceJson(availability, text.startsWith('{') ? payload : Buffer.from(JSON.stringify(text)), 'zigbee2mqtt availability');
      return [{ kind: 'state', state: { online: (typeof a === 'string' ? a : a.state) === 'online' } }];
    }
    if (topic === this.deviceTopic) {
      if (payload.length === 0) return []; // a cleared retained state
      const p = parseDeviceJson(devicePayload, payload, 'zigbee2mqtt state');
      const word = p[this.key];
      if (word === undefined) return [];
      if (word !== 'ON' && word !== 'OFF') throw new ProtocolError('schema', `zigbee2mqtt ${this.key}: neither ON nor OFF`);
      const state: DriverEvent = { kind: 'state', state: { relay: word === 'ON' ? 'unlocked' : 'locked' } };
      return word === 'ON' ? [state, { kind: 'confirmed' }] : [state];
    }
    return [];
  }
}
