import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { systemClock, type Clock, type Timer } from '../../util/clock.js';

export interface RelayDeviceOptions {
  url: string;
  /** The device's topic, as a door's `topic` names it. */
  topic: string;
  clock?: Clock;
  protocolVersion?: 4 | 5;
  /** MQTT clean session; false to model a device with a persistent session (which a broker queues QoS 1 for). */
  clean?: boolean;
  clientId?: string;
}

/** One received command, as the device saw it. */
export interface ReceivedCommand {
  topic: string;
  payload: string;
  at: number;
}

/**
 * What the off-the-shelf simulators share: one MQTT connection with the device's last
 * will, a relay per output with the device-side auto-off timer, and a log of what arrived.
 * Subclasses speak their vendor's topics (device-sims.ts: Shelly, Tasmota, zigbee2mqtt, ESPHome).
 */
export abstract class RelayDevice {
  protected readonly clock: Clock;
  protected client: MqttClient | null = null;
  private readonly outputs = new Map<number, { on: boolean; timer: Timer | null }>();
  readonly received: ReceivedCommand[] = [];
  /** Every time an output went on, and when it went off again. */
  readonly switched: Array<{ output: number; on: boolean; at: number }> = [];
  private readonly waiters = new Set<() => void>();

  constructor(protected readonly opts: RelayDeviceOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  protected abstract subscriptions(): string[];
  protected abstract will(): { topic: string; payload: string };
  /** Published (retained where the device does) once connected and subscribed. */
  protected abstract announce(client: MqttClient): Promise<void>;
  protected abstract onCommand(topic: string, payload: Buffer): void;
  /** The device reports an output that changed. */
  protected abstract report(output: number, on: boolean): void;

  async start(): Promise<void> {
    const will = this.will();
    const options: IClientOptions = {
      protocolVersion: this.opts.protocolVersion ?? 4,
      clientId: this.opts.clientId ?? `sim-${randomBytes(4).toString('hex')}`,
      clean: this.opts.clean ?? true,
      reconnectPeriod: 0,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    };
    // Listening before CONNACK: a broker delivers what it queued for a persistent session right
    // after it, and a listener attached later would miss exactly the late unlocks tests look for.
    const client = mqtt.connect(this.opts.url, options);
    this.client = client;
    client.on('message', (topic, payload) => {
      this.received.push({ topic, payload: payload.toString(), at: this.clock.now() });
      this.onCommand(topic, payload);
      for (const fn of [...this.waiters]) fn();
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('error', () => undefined);
    await client.subscribeAsync(this.subscriptions(), { qos: 1 });
    await this.announce(client);
  }

  async stop(): Promise<void> {
    for (const o of this.outputs.values()) o.timer?.cancel();
    const client = this.client;
    this.client = null;
    await client?.endAsync();
  }

  /** Power cut: no DISCONNECT, so the broker publishes the will. */
  crash(): void {
    for (const o of this.outputs.values()) o.timer?.cancel();
    const client = this.client;
    this.client = null;
    client?.stream.destroy();
    client?.end(true);
  }

  isOn(output: number): boolean {
    return this.outputs.get(output)?.on ?? false;
  }

  /** Resolves once a received command matches (bounded: rejects after `ms`). */
  waitFor(what: string, match: (c: ReceivedCommand) => boolean, ms = 5000): Promise<ReceivedCommand> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.received.find(match);
        if (!hit) return false;
        clearTimeout(timer);
        this.waiters.delete(probe);
        resolve(hit);
        return true;
      };
      const probe = (): void => void check();
      const timer = setTimeout(() => { this.waiters.delete(probe); reject(new Error(`timed out waiting for ${what}`)); }, ms);
      this.waiters.add(probe);
      check();
    });
  }

  /** Switches an output, with the device's auto-off after `offAfterMs` when given. */
  protected set(output: number, on: boolean, offAfterMs: number | null): boolean {
    const o = this.outputs.get(output) ?? { on: false, timer: null };
    const was = o.on;
    o.timer?.cancel();
    o.timer = null;
    o.on = on;
    this.outputs.set(output, o);
    if (on && offAfterMs !== null) o.timer = this.clock.setTimeout(() => this.set(output, false, null), offAfterMs);
    if (was !== on) this.switched.push({ output, on, at: this.clock.now() });
    this.report(output, on);
    return was;
  }

  protected publish(topic: string, payload: string, retain = false): void {
    this.client?.publish(topic, payload, { qos: 0, retain });
  }
}
