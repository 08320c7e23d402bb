import { ProtocolError } from '../protocol.js';
import { deviceText } from './device-json.js';
import { deviceCommandOptions, type DoorDriver, type DriverBehaviour, type DriverContext, type DriverEvent, type DriverMessage } from './driver.js';

/*
 * An ESPHome switch over MQTT, from esphome.io's MQTT client component and its switch
 * (components/mqtt, mqtt_switch.cpp), with a door's `topic` the switch's own topic
 * `<topic_prefix>/switch/<object_id>` (topic_prefix defaults to the node name, object_id is the
 * switch's name in snake case):
 * - `<topic>/command`: "ON", "OFF" (or "TOGGLE"), parsed case-insensitively.
 * - `<topic>/state`: "ON" | "OFF", retained by default, after every change.
 * - `<topic_prefix>/status`: the birth message "online" and the last will "offline", retained.
 *
 * Late unlocks: an ESPHome switch has neither a command expiry nor a timed ON over MQTT — an ON
 * stays on until something says OFF. So the gateway does the device's part itself:
 * - it refuses to send (`unreachable`) while the device says it is offline: an ON the device
 *   cannot take now could only be executed late, if ever (refuseWhileOffline);
 * - otherwise as for every off-the-shelf driver: only while its broker link is up, QoS 0 (not
 *   queued for an absent device), never retained, MQTT 5 message expiry (driver.ts);
 * - it ends every pulse: OFF after pulseMs from the gateway's own timer (pulseEnd: 'gateway',
 *   pulse-ender.ts), an OFF owed while the link was down is sent on reconnect, every connect
 *   sends OFF to a door not in a pulse (a gateway restarted mid-pulse), a clean stop ends the
 *   pulses in progress;
 * - the stuck-on backstop sends OFF again when the state stays ON past pulseMs + grace (an OFF
 *   lost between broker and device, a switch turned on by hand).
 * What is left: the gateway dying mid-pulse and staying down leaves the strike energised. The
 * README asks sites to give the switch its own auto-off in its ESPHome YAML (`on_turn_on:`
 * delay, then `switch.turn_off`) and `restore_mode: ALWAYS_OFF`. Acks are inferred: the state
 * ON that follows our ON.
 */

const BEHAVIOUR: DriverBehaviour = Object.freeze({ state: 'fields', relayKnownOffline: false, pulseEnd: 'gateway', relockBackstop: true, refuseWhileOffline: true });

/** `<topic_prefix>/switch/<object_id>`, as the config schema checks it; null when it is not one. */
export function esphomeSwitchTopic(topic: string): { prefix: string; objectId: string } | null {
  const m = /^(.+)\/switch\/([^/]+)$/.exec(topic);
  return m ? { prefix: m[1]!, objectId: m[2]! } : null;
}

export class EsphomeDriver implements DoorDriver {
  readonly kind = 'esphome';
  readonly reports = { acks: 'relay-state', relay: true, contact: false } as const;
  readonly behaviour = BEHAVIOUR;
  readonly topics: readonly string[];
  private readonly commandTopic: string;
  private readonly stateTopic: string;
  private readonly statusTopic: string;

  constructor(private readonly ctx: DriverContext) {
    const topic = ctx.door.topic ?? '';
    const parts = esphomeSwitchTopic(topic);
    if (!parts) throw new Error(`door ${ctx.door.id}: an esphome topic is <topic_prefix>/switch/<object_id>, not "${topic}"`);
    this.commandTopic = `${topic}/command`;
    this.stateTopic = `${topic}/state`;
    this.statusTopic = `${parts.prefix}/status`;
    this.topics = [this.stateTopic, this.statusTopic];
  }

  unlock(_commandId: string, _readAt: number, leftMs: number): readonly DriverMessage[] {
    return [{ topic: this.commandTopic, payload: 'ON', options: deviceCommandOptions(this.ctx, leftMs) }];
  }

  relock(): readonly DriverMessage[] {
    return [{ topic: this.commandTopic, payload: 'OFF', options: deviceCommandOptions(this.ctx) }];
  }

  handle(topic: string, payload: Buffer): DriverEvent[] {
    if (topic === this.statusTopic) {
      const word = deviceText(payload, 'esphome status');
      if (word !== 'online' && word !== 'offline') throw new ProtocolError('schema', `esphome status: "${word.slice(0, 16)}" is neither online nor offline`);
      return [{ kind: 'state', state: { online: word === 'online' } }];
    }
    if (topic === this.stateTopic) {
      if (payload.length === 0) return []; // a cleared retained state
      const word = deviceText(payload, 'esphome state');
      if (word !== 'ON' && word !== 'OFF') throw new ProtocolError('schema', `esphome state: "${word.slice(0, 16)}" is neither ON nor OFF`);
      const state: DriverEvent = { kind: 'state', state: { relay: word === 'ON' ? 'unlocked' : 'locked' } };
      return word === 'ON' ? [state, { kind: 'confirmed' }] : [state];
    }
    return [];
  }
}
