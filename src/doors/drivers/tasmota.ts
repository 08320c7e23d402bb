import { z } from 'zod';
import { ProtocolError } from '../protocol.js';
import { deviceText, parseDeviceJson } from './device-json.js';
import { deviceCommandOptions, TIMED_DEVICE, type DoorDriver, type DriverContext, type DriverEvent, type DriverMessage } from './driver.js';

/*
 * Tasmota, from its docs (tasmota.github.io/docs/Commands/ and .../MQTT/), with the default
 * FullTopic `%prefix%/%topic%/`:
 * - `cmnd/<topic>/PulseTime<x> <v>`: keep Relay<x> on for v after a Power<x> ON, then off by
 *   itself; 1..111 counts 0.1 s, 112..64900 counts seconds offset by 100 (113 = 13 s).
 * - `cmnd/<topic>/Power<x> ON`; the device answers `stat/<topic>/RESULT {"POWER<x>":"ON"}` and
 *   `stat/<topic>/POWER<x> ON` — plain `POWER` on a single-relay device (without SetOption26).
 * - `tele/<topic>/LWT`: "Online", or "Offline" as its retained last will; `tele/<topic>/STATE`
 *   repeats the power state every TelePeriod.
 *
 * Late unlocks: Tasmota has no command expiry. Each unlock sets PulseTime and then Power ON,
 * two QoS 0 publishes on one connection, so they reach the device's single `cmnd/<topic>/#`
 * subscription in that order (Backlog would space them by SetOption34, 200 ms, on the badge
 * path). PulseTime is sent every time, not once, so a device that was reset or re-flashed
 * still relocks by itself: an ON that arrives late ends after pulseMs on the device. Nothing is
 * published while the broker link is down, nor retained or queued (driver.ts). Tasmota names
 * no command in its answer: the ack is the `stat/<topic>/POWER<x> ON` that follows our ON.
 */

const result = z.record(z.string(), z.unknown());

/** Tasmota's PulseTime for a pulse length: tenths up to 11.1 s, then seconds + 100. */
export function pulseTimeFor(ms: number): number {
  const tenths = Math.round(ms / 100);
  if (tenths <= 111) return Math.max(1, tenths);
  return 100 + Math.max(12, Math.round(ms / 1000));
}

export class TasmotaDriver implements DoorDriver {
  readonly kind = 'tasmota';
  readonly reports = { acks: 'relay-state', relay: true, contact: false } as const;
  readonly behaviour = TIMED_DEVICE;
  readonly topics: readonly string[];
  private readonly powerTopics: ReadonlySet<string>;
  private readonly resultTopic: string;
  private readonly stateTopic: string;
  private readonly lwtTopic: string;
  private readonly cmnd: string;
  /** Keys a RESULT or STATE uses for this relay: POWER<x>, and POWER for the first. */
  private readonly keys: readonly string[];

  constructor(private readonly ctx: DriverContext) {
    const t = ctx.door.topic ?? '';
    const x = ctx.door.relay.channel;
    this.cmnd = `cmnd/${t}`;
    this.keys = x === 1 ? ['POWER1', 'POWER'] : [`POWER${x}`];
    this.powerTopics = new Set(this.keys.map((k) => `stat/${t}/${k}`));
    this.resultTopic = `stat/${t}/RESULT`;
    this.stateTopic = `tele/${t}/STATE`;
    this.lwtTopic = `tele/${t}/LWT`;
    this.topics = [...this.powerTopics, this.resultTopic, this.stateTopic, this.lwtTopic];
  }

  unlock(_commandId: string, _readAt: number, leftMs: number): readonly DriverMessage[] {
    const x = this.ctx.door.relay.channel;
    const options = deviceCommandOptions(this.ctx, leftMs);
    return [
      { topic: `${this.cmnd}/PulseTime${x}`, payload: String(pulseTimeFor(this.ctx.door.pulseMs)), options },
      { topic: `${this.cmnd}/Power${x}`, payload: 'ON', options },
    ];
  }

  relock(): readonly DriverMessage[] {
    return [{ topic: `${this.cmnd}/Power${this.ctx.door.relay.channel}`, payload: 'OFF', options: deviceCommandOptions(this.ctx) }];
  }

  handle(topic: string, payload: Buffer): DriverEvent[] {
    if (topic === this.lwtTopic) {
      const word = deviceText(payload, 'tasmota LWT');
      if (word !== 'Online' && word !== 'Offline') throw new ProtocolError('schema', `tasmota LWT: "${word}" is neither Online nor Offline`);
      return [{ kind: 'state', state: { online: word === 'Online' } }];
    }
    if (this.powerTopics.has(topic)) {
      const on = powerWord(deviceText(payload, 'tasmota power'));
      const state: DriverEvent = { kind: 'state', state: { online: true, relay: on ? 'unlocked' : 'locked' } };
      // The answer to a Power ON (ours, or a button press: Tasmota does not say which).
      return on ? [state, { kind: 'confirmed' }] : [state];
    }
    if (topic === this.resultTopic || topic === this.stateTopic) {
      const r = parseDeviceJson(result, payload, `tasmota ${topic === this.resultTopic ? 'RESULT' : 'STATE'}`);
      const key = this.keys.find((k) => k in r);
      if (key === undefined) return []; // an answer to another command (PulseTime, Status...)
      const word = r[key];
      if (typeof word !== 'string') throw new ProtocolError('schema', `tasmota ${key}: not a string`);
      return [{ kind: 'state', state: { online: true, relay: powerWord(word) ? 'unlocked' : 'locked' } }];
    }
    return [];
  }
}

function powerWord(word: string): boolean {
  if (word === 'ON') return true;
  if (word === 'OFF') return false;
  throw new ProtocolError('schema', `tasmota power: "${word.slice(0, 16)}" is neither ON nor OFF`);
}
