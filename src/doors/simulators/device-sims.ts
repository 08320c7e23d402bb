import type { MqttClient } from 'mqtt';
import { RelayDevice, type RelayDeviceOptions } from './relay-device.js';

/*
 * Device simulators for tests and the demo: each speaks its vendor's documented MQTT topics
 * (the sources are cited in src/doors/drivers/) and runs its auto-off timer on its own clock.
 */

/** A Shelly Gen2 Plus/Pro: RPC on `<topic>/rpc`, replies to `<src>/rpc`, NotifyStatus, `<topic>/online`. */
export class ShellySimulator extends RelayDevice {
  constructor(opts: RelayDeviceOptions & { switches?: number }) {
    super(opts);
  }

  protected subscriptions(): string[] {
    return [`${this.opts.topic}/rpc`];
  }

  protected will(): { topic: string; payload: string } {
    return { topic: `${this.opts.topic}/online`, payload: 'false' };
  }

  protected async announce(client: MqttClient): Promise<void> {
    await client.publishAsync(`${this.opts.topic}/online`, 'true', { qos: 1, retain: true });
  }

  protected onCommand(_topic: string, payload: Buffer): void {
    let frame: { id?: unknown; src?: unknown; method?: unknown; params?: { id?: unknown; on?: unknown; toggle_after?: unknown } };
    try {
      frame = JSON.parse(payload.toString()) as typeof frame;
    } catch {
      return; // a Shelly drops frames it cannot parse
    }
    if (typeof frame.src !== 'string') return;
    const reply = (body: Record<string, unknown>) =>
      this.publish(`${frame.src as string}/rpc`, JSON.stringify({ id: frame.id, src: this.opts.topic, dst: frame.src, ...body }));
    const p = frame.params ?? {};
    if (frame.method !== 'Switch.Set') return reply({ error: { code: 404, message: `No handler for ${String(frame.method)}` } });
    if (typeof p.id !== 'number' || typeof p.on !== 'boolean') return reply({ error: { code: -103, message: 'Missing required argument' } });
    const after = typeof p.toggle_after === 'number' ? p.toggle_after * 1000 : null;
    const wasOn = this.set(p.id, p.on, p.on ? after : null);
    reply({ result: { was_on: wasOn } });
  }

  protected report(output: number, on: boolean): void {
    const status = { id: output, source: 'MQTT', output: on };
    const ts = this.clock.now() / 1000;
    this.publish(`${this.opts.topic}/events/rpc`, JSON.stringify({ src: this.opts.topic, dst: `${this.opts.topic}/events`, method: 'NotifyStatus', params: { ts, [`switch:${output}`]: status } }));
    this.publish(`${this.opts.topic}/status/switch:${output}`, JSON.stringify(status));
  }
}

/** A Tasmota: `cmnd/<topic>/PulseTime<x>` and `Power<x>`, answers on `stat/`, LWT on `tele/`. */
export class TasmotaSimulator extends RelayDevice {
  private readonly pulseTime = new Map<number, number>();
  private readonly relays: number;

  constructor(opts: RelayDeviceOptions & { relays?: number }) {
    super(opts);
    this.relays = opts.relays ?? 1;
  }

  /** What the device holds: PulseTime<x> as set (0 = none). */
  pulseTimeOf(x: number): number {
    return this.pulseTime.get(x) ?? 0;
  }

  protected subscriptions(): string[] {
    return [`cmnd/${this.opts.topic}/#`];
  }

  protected will(): { topic: string; payload: string } {
    return { topic: `tele/${this.opts.topic}/LWT`, payload: 'Offline' };
  }

  protected async announce(client: MqttClient): Promise<void> {
    await client.publishAsync(`tele/${this.opts.topic}/LWT`, 'Online', { qos: 1, retain: true });
  }

  protected onCommand(topic: string, payload: Buffer): void {
    const command = topic.slice(`cmnd/${this.opts.topic}/`.length);
    const arg = payload.toString().trim();
    const pt = /^pulsetime(\d*)$/i.exec(command);
    if (pt) {
      const x = Number(pt[1] || 1);
      this.pulseTime.set(x, Number(arg));
      return this.publish(`stat/${this.opts.topic}/RESULT`, JSON.stringify({ [`PulseTime${x}`]: { Set: Number(arg), Remaining: 0 } }));
    }
    const pw = /^power(\d*)$/i.exec(command);
    if (!pw) return this.publish(`stat/${this.opts.topic}/RESULT`, JSON.stringify({ Command: 'Unknown' }));
    const x = Number(pw[1] || 1);
    const on = /^(on|1|true)$/i.test(arg);
    const v = this.pulseTimeOf(x);
    this.set(x, on, on && v > 0 ? (v <= 111 ? v * 100 : (v - 100) * 1000) : null);
  }

  protected report(output: number, on: boolean): void {
    const key = this.relays === 1 ? 'POWER' : `POWER${output}`;
    const word = on ? 'ON' : 'OFF';
    this.publish(`stat/${this.opts.topic}/RESULT`, JSON.stringify({ [key]: word }));
    this.publish(`stat/${this.opts.topic}/${key}`, word);
  }
}

/** A zigbee2mqtt switch: `<topic>/set`, state on `<topic>`, availability on `<topic>/availability`. */
export class Zigbee2MqttSimulator extends RelayDevice {
  /** False models a switch whose firmware ignores on_time ("support depends on the switch firmware"). */
  private readonly onTime: boolean;

  constructor(opts: RelayDeviceOptions & { supportsOnTime?: boolean }) {
    super(opts);
    this.onTime = opts.supportsOnTime ?? true;
  }

  protected subscriptions(): string[] {
    return [`${this.opts.topic}/set`];
  }

  protected will(): { topic: string; payload: string } {
    return { topic: `${this.opts.topic}/availability`, payload: JSON.stringify({ state: 'offline' }) };
  }

  protected async announce(client: MqttClient): Promise<void> {
    await client.publishAsync(`${this.opts.topic}/availability`, JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
  }

  protected onCommand(_topic: string, payload: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const [key, value] of Object.entries(body)) {
      const m = /^state(?:_l(\d+))?$/.exec(key);
      if (!m || (value !== 'ON' && value !== 'OFF')) continue;
      const seconds = typeof body.on_time === 'number' && this.onTime ? body.on_time : null;
      this.set(Number(m[1] ?? 1), value === 'ON', value === 'ON' && seconds !== null ? seconds * 1000 : null);
    }
  }

  protected report(output: number, on: boolean): void {
    this.publish(this.opts.topic, JSON.stringify({ [output === 1 ? 'state' : `state_l${output}`]: on ? 'ON' : 'OFF', linkquality: 120 }));
  }
}

/**
 * An ESPHome node with one MQTT switch: `<topic>/command` ON/OFF/TOGGLE, retained
 * `<topic>/state`, birth/will on `<topic_prefix>/status`. Like the firmware it models, it has
 * no timer of its own unless the site gave it one in its YAML (`autoOffMs`, an `on_turn_on:`
 * delay then `switch.turn_off`).
 */
export class EsphomeSimulator extends RelayDevice {
  private readonly statusTopic: string;
  private readonly autoOffMs: number | null;

  constructor(opts: RelayDeviceOptions & { autoOffMs?: number }) {
    super(opts);
    const m = /^(.+)\/switch\/[^/]+$/.exec(opts.topic);
    if (!m) throw new Error(`an esphome switch topic is <topic_prefix>/switch/<object_id>, not ${opts.topic}`);
    this.statusTopic = `${m[1]!}/status`;
    this.autoOffMs = opts.autoOffMs ?? null;
  }

  protected subscriptions(): string[] {
    return [`${this.opts.topic}/command`];
  }

  protected will(): { topic: string; payload: string } {
    return { topic: this.statusTopic, payload: 'offline' };
  }

  protected async announce(client: MqttClient): Promise<void> {
    await client.publishAsync(this.statusTopic, 'online', { qos: 1, retain: true });
    // restore_mode ALWAYS_OFF: it comes up off and says so.
    await client.publishAsync(`${this.opts.topic}/state`, this.isOn(1) ? 'ON' : 'OFF', { qos: 1, retain: true });
  }

  protected onCommand(_topic: string, payload: Buffer): void {
    const word = payload.toString().trim().toUpperCase();
    const on = word === 'ON' ? true : word === 'OFF' ? false : word === 'TOGGLE' ? !this.isOn(1) : null;
    if (on === null) return; // ESPHome logs "unknown status payload" and does nothing
    this.set(1, on, on ? this.autoOffMs : null);
  }

  protected report(_output: number, on: boolean): void {
    this.publish(`${this.opts.topic}/state`, on ? 'ON' : 'OFF', true);
  }
}
