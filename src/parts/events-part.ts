import type { IPublishPacket } from 'mqtt';
import { Counter } from 'prom-client';
import type { OperatorActions } from '../console/actions.js';
import type { AlarmSource } from '../doors/alarm-types.js';
import { topics } from '../doors/protocol.js';
import { CommandBridge } from '../events/command-bridge.js';
import { eventTopics, type EventTopics } from '../events/event-payloads.js';
import { EventPublisher } from '../events/event-publisher.js';
import { EventsLink } from '../events/events-link.js';
import { HaDiscovery, lockAction } from '../events/ha-discovery.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { DecisionsPart } from './decisions-part.js';
import type { FilesPart } from './files-part.js';
import { SYNC_STOP_BOUND_MS, type ConfigChange, type Part, type PartContext } from './part.js';
import type { BrokerPart, RelayPart } from './relay-part.js';

interface Running {
  link: EventsLink;
  publisher: EventPublisher;
  bridge: CommandBridge;
  ha: HaDiscovery | null;
  topics: EventTopics;
  ctx: PartContext;
  log: Logger;
}

/**
 * MQTT events, operator commands and Home Assistant discovery (firmware-protocol/events.md), on
 * a connection of their own (events/events-link.ts says why). After `decisions`, whose
 * pipeline it listens to, the relay, whose door states it republishes, and the console, whose
 * OperatorActions run every command. The alarm source comes through useAlarms() (or
 * setAlarms()).
 */
export class EventsPart implements Part {
  readonly name = 'events';
  /** Its stop is one non-blocking end() of a socket: nothing to wait for. */
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  private running: Running | null = null;

  constructor(
    private readonly files: FilesPart,
    private readonly broker: BrokerPart,
    private readonly relay: RelayPart,
    private readonly decisions: DecisionsPart,
    /** Asked for each command; the console part's, which is started before this one. */
    private actions: (() => OperatorActions | null) | null = null,
  ) {}

  private alarmSource: () => AlarmSource | null = () => null;
  private alarmsAttached = false;

  /** Another OperatorActions than the constructor's (tests record the calls with their own). */
  setOperatorActions(actions: OperatorActions): void {
    this.actions = () => actions;
  }

  /**
   * The door alarms, as ConsolePart.useAlarms takes them: asked once, at start (the alarms part
   * is listed before this one), e.g. `events.useAlarms(() => alarms.alarms())`.
   */
  useAlarms(source: () => AlarmSource | null): void {
    this.alarmSource = source;
  }

  /** One AlarmSource, before or after start (tests, or a source built outside the parts). */
  setAlarms(alarms: AlarmSource): void {
    this.alarmSource = () => alarms;
    if (this.running && !this.alarmsAttached) this.attachAlarms(this.running.publisher);
  }

  private attachAlarms(publisher: EventPublisher): void {
    let source: AlarmSource | null;
    try {
      source = this.alarmSource();
    } catch {
      source = null; // its part did not start: no alarm events, everything else runs
    }
    if (!source) return;
    this.alarmsAttached = true;
    publisher.attachAlarms(source);
  }

  async start(ctx: PartContext): Promise<void> {
    const cfg = ctx.config();
    const log = ctx.logger.child({ part: 'events' });
    const ev = eventTopics(topics(cfg.mqtt.topicPrefix, cfg.site.id).base);
    const failed = (task: string, err: unknown) => {
      ctx.metrics.backgroundErrors.inc({ task });
      log.error({ task, err: errorMessage(err) }, `${task} failed`);
    };
    // Taken from the registry when there already: a gateway started again keeps its counters.
    const registry = ctx.metrics.registry;
    const published = (registry.getSingleMetric('lintel_events_published_total') as Counter | undefined)
      ?? new Counter({ name: 'lintel_events_published_total', help: 'MQTT events and responses published (QoS 0)', registers: [registry] });
    const dropped = (registry.getSingleMetric('lintel_events_dropped_total') as Counter<'reason'> | undefined)
      ?? new Counter({ name: 'lintel_events_dropped_total', help: 'MQTT events dropped because the broker was away or not keeping up (never queued)', labelNames: ['reason'] as const, registers: [registry] });
    const files = this.files.linkFiles;
    const commands = () => ctx.config().mqtt.commands;
    const haOn = cfg.homeAssistant.discovery;
    const link: EventsLink = new EventsLink({
      mqtt: cfg.mqtt,
      siteId: cfg.site.id,
      url: this.relay.mqttUrl,
      // The embedded broker speaks MQTT 3.1.1 only (relay-part.ts).
      protocolVersion: this.broker.url() ? 4 : cfg.mqtt.protocolVersion,
      logger: log,
      readFile: (path) => files.file(path),
      counted: (outcome) => (outcome === 'published' ? published.inc() : dropped.inc({ reason: outcome })),
      subscriptions: () => this.subscriptions(),
      connected: () => this.guard('events-announce', () => this.announce()),
      message: (topic, payload, packet) => this.guard('mqtt-command', () => this.message(topic, payload, packet)),
    });
    const publisher = new EventPublisher({ topics: ev, sink: link, haReaderEvents: () => haOn, failed });
    const bridge = new CommandBridge({
      topics: ev,
      sink: link,
      actor: () => ({ name: commands().actor, role: commands().role, via: 'mqtt' }),
      actions: () => this.operatorActions(),
      logger: log,
      failed,
    });
    const ha = haOn ? new HaDiscovery(link) : null;
    this.running = { link, publisher, bridge, ha, topics: ev, ctx, log };
    const pipeline = this.decisions.pipeline;
    const relay = this.relay.relay;
    publisher.attach({ onDecision: (l) => pipeline.onDecision(l), onState: (l) => relay.onState(l) }, null);
    this.attachAlarms(publisher);
    // Like the relay: with its password or TLS files unusable it waits for the retry that finds them fixed.
    let started = false;
    const connect = async () => {
      if (started || !files.ready('mqtt') || this.running?.link !== link) return;
      started = true;
      await link.start();
    };
    this.files.onRetried(() => void connect().catch((err: unknown) => failed('events-connect', err)));
    await connect();
  }

  stop(): void {
    const running = this.running;
    this.running = null;
    if (!running) return;
    running.publisher.detach();
    this.alarmsAttached = false;
    running.link.stop();
  }

  /** A door removed: its retained state and its HA entities are cleared; a new one announced. */
  reloaded(change: ConfigChange): void {
    const running = this.running;
    if (!running || change.config.doors === change.previous.doors) return;
    this.guard('events-reload', () => {
      const now = new Set(change.config.doors.map((d) => d.id));
      for (const d of change.previous.doors) if (!now.has(d.id)) running.publisher.forgetDoor(d.id);
      running.ha?.sync(change.config, this.contactDoors(), false);
    });
  }

  /** Events published and dropped, commands answered: for tests and the status page. */
  stats(): { connected: boolean; subscriptions: string[]; link: EventsLink['counts']; commands: CommandBridge['counts'] } | null {
    const r = this.running;
    return r ? { connected: r.link.isConnected(), subscriptions: this.subscriptions(), link: { ...r.link.counts }, commands: { ...r.bridge.counts } } : null;
  }

  /** The console's, or null (answered `unavailable`) while it is not running: at start, or already stopped. */
  private operatorActions(): OperatorActions | null {
    try {
      return this.actions?.() ?? null;
    } catch {
      return null;
    }
  }

  /** Nothing with commands off: then no client can act through this gateway over MQTT at all. */
  private subscriptions(): string[] {
    const r = this.running;
    if (!r) return [];
    const cfg = r.ctx.config();
    if (!cfg.mqtt.commands.enabled) return [];
    return [r.topics.allRequests, ...(cfg.homeAssistant.discovery ? [r.topics.allHaLockSets] : [])];
  }

  private contactDoors(): Set<string> {
    return new Set(this.relay.relay.doorStatus().filter((e) => e.reports.contact).map((e) => e.doorId));
  }

  /** On every (re)connect: the retained door states and HA configs a broker restart may have lost. */
  private announce(): void {
    const r = this.running;
    if (!r) return;
    for (const e of this.relay.relay.doorStatus()) {
      if (e.online === null || e.stateAt === null) continue; // nothing known, or the relay is away too
      r.publisher.republish({ doorId: e.doorId, state: { online: e.online, relay: e.relay, contact: e.contact, at: e.stateAt, ...(e.fw === null ? {} : { fw: e.fw }) } });
    }
    r.ha?.sync(r.ctx.config(), this.contactDoors(), true);
  }

  private message(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const r = this.running;
    if (!r) return;
    const target = r.topics.parse(topic);
    if (!target) return;
    // A retained request would run again on every reconnect: requests are one-shot or nothing.
    if (packet.retain) {
      r.log.warn({ topic }, 'retained MQTT command ignored; publish commands without retain');
      return;
    }
    if (target.kind === 'request') return r.bridge.request(target.action, payload);
    const action = lockAction(target.doorId, payload.toString('utf8'));
    if (!action) return void r.log.warn({ topic }, 'Home Assistant lock command not understood; expected OPEN, UNLOCK or LOCK');
    r.bridge.run(action, (result) => {
      if (!result.ok) r.log.warn({ door: target.doorId, code: result.code, err: result.message }, 'Home Assistant lock command refused');
    });
  }

  private guard(task: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const r = this.running;
      r?.ctx.metrics.backgroundErrors.inc({ task });
      r?.log.error({ task, err: errorMessage(err) }, `${task} failed`);
    }
  }
}
