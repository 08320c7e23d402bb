import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { DoorConfig } from '../config/schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { AckTracker, type AckEvent, type LastAck } from './ack-tracker.js';
import { DoorRoutes, type DoorRoute } from './door-routes.js';
import type { DriverEvent } from './drivers/index.js';
import { DoorStates, type DoorStatusEntry, type KnownDoorState, type StateEvent } from './door-states.js';
import { buildClientOptions, noNagle, NoReplayStore, redactUrl, sendNow, type MqttConfig } from './mqtt-options.js';
import { CommandIds, DoorAck, GatewayStatus, ProtocolError, topics, type Topics } from './protocol.js';
import { PulseEnder } from './pulse-ender.js';
import { RelockBackstop } from './relock-backstop.js';

/** expired: the read's command lifetime (readAt + commandTtlMs) was over before it could be sent; nothing is sent. */
export type PulseOutcome = { status: 'sent'; commandId: string } | { status: 'unreachable' | 'expired'; commandId: null };
/** An unlock that was sent (door alarms: the opening it authorises). `at`: when it was sent. */
export interface PulseSent {
  doorId: string;
  commandId: string;
  at: number;
}
export type { AckEvent, LastAck };
export type { DoorStatusEntry, KnownDoorState, StateEvent };

export interface DoorRelayOptions {
  mqtt: MqttConfig;
  siteId: string;
  doors: DoorConfig[];
  clock: Clock;
  logger: Logger;
  /** A listener (alarms, events, the console) threw: counted as lintel_background_errors_total{task}. */
  countFailure?: ((task: string) => void) | undefined;
  /** Injected seam (tests, alternative transports); mqtt.js' connect by default. */
  connect?: typeof mqtt.connect;
  /** Resolved secret; otherwise mqtt.password or the first line of mqtt.passwordFile. */
  password?: string;
  /** The broker URL to use; required when mqtt.url is "embedded" (the embedded broker's URL). */
  url?: string;
  /** Overrides mqtt.protocolVersion, e.g. 4 for the embedded broker, which has no MQTT 5. */
  protocolVersion?: 4 | 5;
  /** How long to wait for a door's ack before counting it missing. Default 5000 ms. */
  ackTimeoutMs?: number;
  reconnectPeriodMs?: number;
  readFile?: (path: string) => Buffer;
}

type Listener<T> = (event: T) => void;

/**
 * The gateway's one MQTT link to its doors: sends each door's unlock through its driver
 * (drivers/), tracks acks, routes device reports to the door states (door-states.ts) and
 * announces its own status with an offline last-will (firmware-protocol/README.md).
 */
export class DoorRelay {
  private readonly t: Topics;
  /** Per door, built once per configuration: its config and driver; replaced whole by setDoors(). */
  private routes: DoorRoutes;
  private readonly protocolVersion: 4 | 5;
  private readonly states: DoorStates;
  private readonly acks: AckTracker;
  private readonly backstop: RelockBackstop;
  /** Ends the pulses of doors whose device has no timer of its own (behaviour.pulseEnd 'gateway'). */
  private readonly pulseEnder: PulseEnder;
  private readonly connectionListeners = new Set<Listener<boolean>>();
  private readonly pulseListeners = new Set<Listener<PulseSent>>();
  private client: MqttClient | null = null;
  private readonly outgoingStore = new NoReplayStore();
  private readonly commandIds = new CommandIds(randomBytes(9).toString('base64url'));
  private stopping = false;
  private counts = { sent: 0, unreachable: 0, invalidMessages: 0, reconnects: 0, inferredAcks: 0 };

  constructor(private readonly opts: DoorRelayOptions) {
    this.t = topics(opts.mqtt.topicPrefix, opts.siteId);
    this.protocolVersion = opts.protocolVersion ?? opts.mqtt.protocolVersion;
    this.routes = this.buildRoutes(opts.doors);
    this.states = new DoorStates(opts.logger, (err) => this.listenerFailed('door-state-listener', err));
    this.acks = new AckTracker(opts.clock, opts.logger, opts.ackTimeoutMs ?? 5000);
    this.backstop = new RelockBackstop(opts.clock, opts.logger, (doorId) => this.relock(doorId));
    this.pulseEnder = new PulseEnder(opts.clock, opts.logger, (doorId) => this.relock(doorId));
  }

  private buildRoutes(doors: readonly DoorConfig[]): DoorRoutes {
    return new DoorRoutes(doors, { prefix: this.opts.mqtt.topicPrefix, siteId: this.opts.siteId, protocolVersion: this.protocolVersion });
  }

  /**
   * A reload's new doors (pulseMs, driver, topic, channel, added or removed): the next pulse
   * uses them. The routing table is swapped in one assignment, so a badge read sees the old
   * doors or the new ones, never a mix; the subscriptions follow in the background (a device
   * report that arrives before its SUBACK is simply not seen yet).
   */
  setDoors(doors: readonly DoorConfig[]): void {
    const next = this.buildRoutes(doors);
    const { subscribe, unsubscribe } = this.routes.diff(next);
    for (const [doorId, was] of this.routes.byDoor) {
      const now = next.byDoor.get(doorId);
      if (!now || now.driver.kind !== was.driver.kind || now.config.topic !== was.config.topic) {
        this.states.forget(doorId); // what another device said is not this one's state
        this.backstop.cancel(doorId);
        this.pulseEnder.retire(doorId); // before the swap: a pulse in progress ends on the old device
      }
    }
    this.routes = next;
    const client = this.client;
    if (!client?.connected) return; // announce() subscribes to the new topics on (re)connect
    const log = this.opts.logger;
    if (subscribe.length > 0) client.subscribeAsync(subscribe, { qos: 1 }).catch((err: Error) => log.warn({ err: err.message }, 'subscribing to new door topics failed; retried on reconnect'));
    if (unsubscribe.length > 0) client.unsubscribeAsync(unsubscribe).catch((err: Error) => log.warn({ err: err.message }, 'unsubscribing from removed door topics failed'));
  }

  /**
   * Connects and resolves once the first attempt has an outcome: connected, subscribed and
   * announced — or failed, in which case mqtt.js keeps retrying and pulse() says unreachable.
   * A broker that is down must not stop the gateway from starting (readers still log denials).
   */
  async start(): Promise<void> {
    if (this.client) throw new Error('DoorRelay already started');
    this.stopping = false;
    const { mqtt: cfg, logger } = this.opts;
    const url = this.opts.url ?? cfg.url;
    if (url === 'embedded') throw new Error('mqtt.url is "embedded": start the embedded broker and pass its url');
    const offline = new GatewayStatus('offline', this.opts.clock.now()).serialize();
    const client = (this.opts.connect ?? mqtt.connect)(url, buildClientOptions({
      mqtt: cfg,
      siteId: this.opts.siteId,
      protocolVersion: this.protocolVersion,
      password: this.opts.password,
      will: { topic: this.t.gatewayStatus, payload: offline },
      reconnectPeriodMs: this.opts.reconnectPeriodMs ?? 1000,
      outgoingStore: this.outgoingStore,
      readFile: this.opts.readFile,
    }));
    this.client = client;
    const where = redactUrl(url);
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => logger.warn({ broker: where, err: err.message }, 'mqtt error'));
    client.on('reconnect', () => void (this.counts.reconnects += 1));
    client.on('close', () => {
      const abandoned = this.outgoingStore.abandonInFlight(client);
      if (abandoned > 0) logger.warn({ abandoned }, 'unlocks in flight when the connection dropped were not replayed');
      if (!this.stopping) logger.warn({ broker: where }, 'mqtt connection lost; unlocks are refused until it is back');
      this.emitConnection(false);
    });
    await new Promise<void>((resolve) => {
      client.on('connect', () => {
        noNagle(client);
        this.announce(client).then(
          () => {
            logger.info({ broker: where, protocolVersion: this.protocolVersion }, 'mqtt connected');
            this.pulseEnder.connected(this.gatewayEnded());
            this.emitConnection(true);
            resolve();
          },
          (err: Error) => logger.warn({ broker: where, err: err.message }, 'mqtt announce failed'),
        );
      });
      client.once('close', () => resolve());
    });
  }

  /** Clean shutdown: retained offline status first (the will is only for unclean deaths). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client || this.stopping) return;
    // Before `stopping`: relock() refuses once it is set, and no pulse may outlive its timer.
    if (client.connected) this.pulseEnder.endAll();
    this.stopping = true;
    this.acks.clear();
    this.backstop.clear();
    this.pulseEnder.clear();
    if (client.connected) {
      const offline = new GatewayStatus('offline', this.opts.clock.now()).serialize();
      try {
        await client.publishAsync(this.t.gatewayStatus, offline, { qos: 1, retain: true });
      } catch (err) {
        this.opts.logger.warn({ err: (err as Error).message }, 'could not publish offline status');
      }
      await client.endAsync();
    } else {
      await client.endAsync(true);
    }
    this.client = null;
  }

  /**
   * The badge hot path: synchronous, no await, no I/O wait. Refuses (`unreachable`) unless the
   * connection is up right now — an unlock is never queued to be sent when the broker returns,
   * because by then the person has walked away and a late open door is a security hole. If the
   * connection dies with this command in flight, it is not replayed (NoReplayStore). Were it
   * delivered late anyway, lintel's firmware drops it by `expiresAt`; the other drivers say what
   * stands in for that (drivers/, behaviour: the device's timer, the gateway's OFF). An MQTT 5
   * broker's message expiry helps only while the broker runs — one that is frozen (SIGSTOP, a
   * stalled VM) delivers what it holds at once when it resumes — and MQTT 3.1.1 has none.
   * `readAt` is when the badge was read: the command's lifetime counts from it.
   */
  pulse(doorId: string, readAt: number = this.opts.clock.now()): PulseOutcome {
    const route = this.routes.byDoor.get(doorId);
    const client = this.client;
    if (!route) {
      this.opts.logger.error({ door: doorId }, 'pulse for a door that is not configured');
      this.counts.unreachable += 1;
      return { status: 'unreachable', commandId: null };
    }
    if (!client || this.stopping || !client.connected || client.disconnecting) {
      this.counts.unreachable += 1;
      return { status: 'unreachable', commandId: null };
    }
    const behaviour = route.driver.behaviour;
    if (behaviour.refuseWhileOffline && this.states.get(doorId)?.online === false) {
      this.counts.unreachable += 1;
      return { status: 'unreachable', commandId: null };
    }
    // A command lives from the read, not from the decision (a visitor QR waits for the
    // platform): one whose lifetime is already over is not sent, and none outlives it.
    const leftMs = readAt + route.config.commandTtlMs - this.opts.clock.now();
    if (leftMs <= 0) return { status: 'expired', commandId: null };
    const commandId = this.commandIds.next();
    // Each driver's comment says what it guarantees about a late unlock (drivers/).
    for (const m of route.driver.unlock(commandId, readAt, leftMs)) {
      client.publish(m.topic, m.payload, m.options, (err) => {
        if (err) this.opts.logger.warn({ door: doorId, commandId, err: err.message }, 'pulse publish failed');
      });
    }
    sendNow(client);
    this.counts.sent += 1;
    this.acks.expect(doorId, commandId);
    this.backstop.unlockSent(doorId, route.config.pulseMs);
    if (behaviour.pulseEnd === 'gateway') this.pulseEnder.unlockSent(doorId, route.config.pulseMs);
    this.emitPulse({ doorId, commandId, at: this.opts.clock.now() });
    return { status: 'sent', commandId };
  }

  /** On the badge path, after the send: a listener that throws is logged and never costs the unlock's outcome. */
  private emitPulse(event: PulseSent): void {
    for (const fn of this.pulseListeners) {
      try {
        fn(event);
      } catch (err) {
        this.listenerFailed('pulse-listener', err);
      }
    }
  }

  private *gatewayEnded(): Iterable<string> {
    for (const [doorId, route] of this.routes.byDoor) if (route.driver.behaviour.pulseEnd === 'gateway') yield doorId;
  }

  /** An OFF, for the stuck-on backstop and the gateway-ended pulse; false when it cannot be sent now. */
  private relock(doorId: string): boolean {
    const client = this.client;
    const messages = this.routes.byDoor.get(doorId)?.driver.relock();
    if (!messages || !client || this.stopping || !client.connected) return false;
    try {
      for (const m of messages) client.publish(m.topic, m.payload, m.options, () => undefined);
      return true;
    } catch (err) {
      this.opts.logger.error({ door: doorId, err: (err as Error).message }, 'relock publish failed');
      return false;
    }
  }

  connected(): boolean {
    return !this.stopping && this.client?.connected === true;
  }

  doorStatus(): DoorStatusEntry[] {
    const live = this.connected();
    return [...this.routes.byDoor.values()].map((route) => {
      const doorId = route.config.id;
      return this.states.entry(route, live, { last: this.acks.last(doorId), pending: this.acks.pending(doorId), missedAt: this.acks.missedSince(doorId) });
    });
  }

  stats(): { sent: number; unreachable: number; acked: number; missingAcks: number; lateAcks: number; invalidMessages: number; reconnects: number; inferredAcks: number; stuckRelocks: number; pulseEnds: number } {
    return { ...this.counts, ...this.acks.counts(), stuckRelocks: this.backstop.fired, pulseEnds: this.pulseEnder.sent };
  }

  /** Each returns an unsubscribe function. */
  onAck(fn: Listener<AckEvent>): () => void {
    return this.acks.onAck(fn);
  }

  onState(fn: Listener<StateEvent>): () => void {
    return this.states.onState(fn);
  }

  /** Every unlock sent, whoever asked for it (a badge, a hold, an operator pulse). */
  onPulse(fn: Listener<PulseSent>): () => void {
    this.pulseListeners.add(fn);
    return () => void this.pulseListeners.delete(fn);
  }

  onConnection(fn: Listener<boolean>): () => void {
    this.connectionListeners.add(fn);
    return () => void this.connectionListeners.delete(fn);
  }

  /** On every (re)connect: clean session, so subscribe again, then say we are online. */
  private async announce(client: MqttClient): Promise<void> {
    await client.subscribeAsync(this.routes.topics(), { qos: 1 });
    const online = new GatewayStatus('online', this.opts.clock.now()).serialize();
    await client.publishAsync(this.t.gatewayStatus, online, { qos: 1, retain: true });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const routes = this.routes.byTopic.get(topic);
    if (!routes) return;
    for (const route of routes) {
      try {
        for (const event of route.driver.handle(topic, payload, this.opts.clock.now())) this.apply(route, event);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.counts.invalidMessages += 1;
        this.opts.logger.warn({ door: route.config.id, driver: route.driver.kind, topic, code: err.code, err: err.message }, 'invalid door message discarded');
      }
    }
  }

  private apply(route: DoorRoute, event: DriverEvent): void {
    const doorId = route.config.id;
    const now = this.opts.clock.now();
    if (event.kind === 'ack') return this.acks.received(doorId, event.ack);
    if (event.kind === 'confirmed') {
      const commandId = this.acks.oldestPending(doorId);
      if (commandId === null) return; // a button press, or another gateway's command
      this.counts.inferredAcks += 1;
      return this.acks.received(doorId, new DoorAck(commandId, 'executed', now));
    }
    if (event.kind === 'cleared') {
      this.states.forget(doorId);
      this.backstop.cancel(doorId);
      return;
    }
    const state = this.states.apply(route, event, now);
    if (route.driver.behaviour.relockBackstop) this.backstop.reported(doorId, state.relay, route.config.pulseMs);
  }

  private emitConnection(up: boolean): void {
    for (const fn of this.connectionListeners) {
      try {
        fn(up);
      } catch (err) {
        this.listenerFailed('connection-listener', err);
      }
    }
  }

  /** One place for a listener's throw: logged and counted, never the relay's (or the unlock's) business. */
  private listenerFailed(task: string, err: unknown): void {
    this.opts.countFailure?.(task);
    this.opts.logger.error({ task, err: (err as Error).message }, `${task} threw`);
  }
}
