import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { systemClock, type Clock, type Timer } from '../util/clock.js';
import { DedupCache, decideCommand, RelayStateMachine, type FirmwareDecision } from './firmware-logic.js';
import { DoorAck, DoorState, PulseCommand, topics, type ContactPosition, type Topics } from './protocol.js';

export interface DoorSimulatorOptions {
  url: string;
  prefix: string;
  siteId: string;
  doorId: string;
  clock?: Clock;
  connect?: typeof mqtt.connect;
  protocolVersion?: 4 | 5;
  /** Relay outputs on the simulated board. */
  channels?: number;
  /** Whether the simulated NTP client has synced (firmware refuses commands until it has). */
  timeSynced?: boolean;
  fw?: string;
}

export interface PulseExecuted {
  id: string;
  channel: number;
  pulseMs: number;
  unlockedUntil: number;
  /** The command's own times (gateway clock), as received. */
  issuedAt: number;
  expiresAt: number;
  /** The firmware clock when it decided to execute: never past expiresAt. */
  at: number;
}

export interface DoorSimulatorEvents {
  pulse: [PulseExecuted];
  ack: [DoorAck];
  ignored: [{ why: 'retained' | 'unparseable' }];
  relock: [];
  state: [DoorState];
}

/**
 * Reference firmware in TypeScript: speaks firmware-protocol/README.md exactly, through the
 * same pure decision function the vectors are checked against. Used by tests and the demo.
 */
export class DoorSimulator extends EventEmitter<DoorSimulatorEvents> {
  private readonly clock: Clock;
  private readonly t: Topics;
  private readonly relay = new RelayStateMachine();
  private readonly dedup = new DedupCache();
  private client: MqttClient | null = null;
  private relockTimer: Timer | null = null;
  private contact: ContactPosition = 'closed';
  private timeSynced: boolean;
  private executed = 0;

  constructor(private readonly opts: DoorSimulatorOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.t = topics(opts.prefix, opts.siteId);
    this.timeSynced = opts.timeSynced ?? true;
  }

  /** Resolves once connected, subscribed to `cmd`, and the retained online state is published. */
  async start(): Promise<void> {
    const connect = this.opts.connect ?? mqtt.connect;
    const stateTopic = this.t.state(this.opts.doorId);
    // The will is fixed at connect time, so it can only say "offline, relay presumed locked
    // (fail-secure wiring), contact unknown".
    const will = new DoorState(false, 'locked', 'unknown', this.clock.now(), this.opts.fw);
    const client = connect(this.opts.url, {
      protocolVersion: this.opts.protocolVersion ?? 5,
      clientId: `door-${this.opts.siteId}-${this.opts.doorId}-${randomBytes(4).toString('hex')}`,
      // Clean session: the broker must not queue unlocks for a door that is offline.
      clean: true,
      reconnectPeriod: 500,
      will: { topic: stateTopic, payload: Buffer.from(will.serialize()), qos: 1, retain: true },
    });
    this.client = client;
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    client.on('error', () => undefined); // reconnects on its own; errors surface as 'offline'
    await new Promise<void>((resolve, reject) => {
      let first = true;
      client.on('connect', () => {
        const announced = this.announce(client);
        if (first) announced.then(resolve, reject);
        else announced.catch(() => undefined); // a dropped connection re-announces on reconnect
        first = false;
      });
    });
  }

  /** Clean shutdown: publish offline (the will would too, but only after a keepalive timeout). */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.relockTimer?.cancel();
    if (!client) return;
    if (client.connected) {
      const offline = new DoorState(false, this.relay.position(this.clock.now()), this.contact, this.clock.now(), this.opts.fw);
      await client.publishAsync(this.t.state(this.opts.doorId), offline.serialize(), { qos: 1, retain: true });
    }
    await client.endAsync();
  }

  /** Power cut: drop the TCP connection without DISCONNECT, so the broker sends the last-will. */
  crash(): void {
    const client = this.client;
    this.client = null;
    this.relockTimer?.cancel();
    client?.stream.destroy();
    client?.end(true);
  }

  /** Contact sensor: someone pushed the door open (after an unlock, or forced). */
  simulateOpen(): void {
    this.setContact('open');
  }

  simulateClose(): void {
    this.setContact('closed');
  }

  setTimeSynced(synced: boolean): void {
    this.timeSynced = synced;
  }

  state(): { online: boolean; relay: 'locked' | 'unlocked'; contact: ContactPosition; executed: number } {
    return { online: this.client?.connected ?? false, relay: this.relay.position(this.clock.now()), contact: this.contact, executed: this.executed };
  }

  private async announce(client: MqttClient): Promise<void> {
    if (client !== this.client) return;
    await client.subscribeAsync(this.t.cmd(this.opts.doorId), { qos: 1 });
    await this.publishState();
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic !== this.t.cmd(this.opts.doorId)) return;
    // One reading of the clock for the decision and the execution: the expiry check and the
    // relay act on the same instant, so nothing can slip past expiresAt between the two.
    const now = this.clock.now();
    const decision = decideCommand({ payload, retained, now, timeSynced: this.timeSynced, channels: this.opts.channels ?? 2, dedup: this.dedup });
    if (decision.action === 'ignore') {
      this.emit('ignored', { why: decision.why });
      return;
    }
    // An executed command parsed a moment ago: its times are there to record.
    if (decision.pulse) this.execute(decision.id, decision.pulse, PulseCommand.parse(payload), now);
    void this.sendAck(decision);
  }

  private execute(id: string, pulse: { channel: number; pulseMs: number }, command: PulseCommand, now: number): void {
    const wasLocked = this.relay.position(now) === 'locked';
    const unlockedUntil = this.relay.pulse(now, pulse.pulseMs);
    this.executed += 1;
    this.relockTimer?.cancel();
    this.relockTimer = this.clock.setTimeout(() => this.relock(), unlockedUntil - now);
    this.emit('pulse', { id, ...pulse, unlockedUntil, issuedAt: command.issuedAt, expiresAt: command.expiresAt, at: now });
    if (wasLocked) void this.publishState();
  }

  private relock(): void {
    this.relockTimer = null;
    if (this.relay.tick(this.clock.now())) {
      this.emit('relock');
      void this.publishState();
    }
  }

  private setContact(contact: ContactPosition): void {
    if (contact === this.contact) return;
    this.contact = contact;
    void this.publishState();
  }

  private async sendAck(decision: Extract<FirmwareDecision, { action: 'ack' }>): Promise<void> {
    const ack = new DoorAck(decision.id, decision.result, this.clock.now(), decision.reason);
    const client = this.client;
    if (!client?.connected) return;
    try {
      await client.publishAsync(this.t.ack(this.opts.doorId), ack.serialize(), { qos: 1, retain: false });
      this.emit('ack', ack);
    } catch {
      // Connection lost before PUBACK: the gateway counts the ack as missing, which is the truth.
    }
  }

  private async publishState(): Promise<void> {
    const client = this.client;
    if (!client?.connected) return;
    const now = this.clock.now();
    const state = new DoorState(true, this.relay.position(now), this.contact, now, this.opts.fw);
    try {
      await client.publishAsync(this.t.state(this.opts.doorId), state.serialize(), { qos: 1, retain: true });
      this.emit('state', state);
    } catch {
      // Connection lost: the state is published again on reconnect (announce).
    }
  }
}
