import type { Server } from 'node:http';
import type { Readable } from 'node:stream';
import type { AccessIndex } from './access/access-index.js';
import type { ReloadPlan } from './config/reload-plan.js';
import type { Config, ReaderConfig } from './config/schema.js';
import type { AlarmSource } from './doors/alarm-types.js';
import type { DoorHold } from './doors/door-hold.js';
import type { DoorRelay } from './doors/door-relay.js';
import { redactUrl } from './doors/mqtt-options.js';
import type { GatewayStatus } from './http/status.js';
import { Metrics } from './metrics.js';
import type { EventsPart } from './parts/events-part.js';
import type { StorePart } from './parts/store-part.js';
import { gatewayParts, type CoreParts } from './parts/gateway-parts.js';
import { PartRunner } from './parts/part-runner.js';
import type { OperatorActions } from './console/actions.js';
import type { LearnMode } from './readers/learn-mode.js';
import type { BadgePipeline } from './pipeline/badge-pipeline.js';
import type { RecentDecisions } from './pipeline/recent-decisions.js';
import type { IssuedToken } from './qr/issuer.js';
import type { ReaderBindings } from './readers/factory.js';
import { buildStatus, mergeStatusParts } from './status-builder.js';
import type { AuditLog } from './store/audit.js';
import type { Store } from './store/store.js';
import type { UpstreamLink } from './upstream/upstream-link.js';
import { systemClock, type Clock } from './util/clock.js';
import { GatewayReloader, type LocationLinks, type ReloadTarget } from './gateway-reload.js';
import { createLogger, setLogLevel, type Logger } from './util/log.js';
import { createSystemdNotifier, type SystemdNotifier } from './util/systemd.js';
import { VERSION } from './version.js';

export interface GatewayOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  readerBindings?: ReaderBindings;
  /** stdin in production; tests pass their own stream, the demo one per reader (it routes the console's lines). */
  stdin?: Readable | ((reader: ReaderConfig) => Readable);
  systemd?: SystemdNotifier;
}

/**
 * The composition root (zigbee2mqtt's controller): runs the parts of parts/gateway-parts.ts,
 * which says what starts in which order, and owns what is the whole gateway's: the running
 * config and its reloads, the status snapshot, and systemd's ready, watchdog and stopping.
 * The fields below are the parts' own, for the demo, the CLI and tests.
 */
export class Gateway implements ReloadTarget {
  /** Replaced (not mutated) by reload(): only the live fields change (config/reload-plan.ts). */
  config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  /** With the process metrics: one registry per gateway, and the gateway is the process. */
  readonly metrics = new Metrics({ processMetrics: true });
  private readonly core: CoreParts;
  private readonly runner: PartRunner;
  private readonly systemd: SystemdNotifier;
  private readonly reloader: GatewayReloader;
  private startedAt = 0;
  private started = false;
  private stopping: Promise<void> | null = null;

  constructor(opts: GatewayOptions) {
    this.config = opts.config;
    this.logger = opts.logger ?? createLogger(opts.config.log.level, undefined, opts.config.log.format);
    this.clock = opts.clock ?? systemClock;
    this.systemd = opts.systemd ?? createSystemdNotifier(this.logger);
    const parts = gatewayParts({ bindings: opts.readerBindings, stdin: opts.stdin, status: () => this.status() });
    this.core = parts.core;
    this.runner = new PartRunner(parts.list, {
      config: () => this.config,
      logger: this.logger,
      clock: this.clock,
      metrics: this.metrics,
      stopping: () => this.stopping !== null,
    });
    this.reloader = new GatewayReloader(this);
  }

  /**
   * Starts every part in order. A part that fails stops what started (the store closed last)
   * and its error is rethrown: `lintel run` maps it to the exit code.
   */
  async start(): Promise<void> {
    this.startedAt = this.clock.now();
    try {
      await this.runner.startAll();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.started = true;
    this.systemd.ready(`deciding for ${this.index.stats().cards} cards`);
    this.systemd.startWatchdog(this.clock, () => this.core.store.isOpen());
    const mqtt = redactUrl(this.core.relay.mqttUrl);
    this.logger.info({ site: this.config.site.id, http: this.address(), mqtt, ...this.index.stats() }, 'lintel started');
  }

  /** For the reloader: a reload while starting or stopping is refused, not half-applied. */
  running(): boolean {
    return this.started && this.stopping === null;
  }

  /** For the reloader, once the new mapping is committed: the new running config, and the re-read tokens. */
  commit(config: Config, tokens: ReadonlyMap<string, string>): void {
    const previous = this.config;
    if (config.log.level !== previous.log.level) setLogLevel(this.logger, config.log.level);
    this.config = config;
    this.runner.reloaded({ config, previous, upstreamTokens: tokens });
  }

  /** SIGHUP: reads `file` and applies it (gateway-reload.ts); never throws, a rejection is logged and counted. */
  reloadFile(file: string): Promise<void> {
    return this.reloader.reloadFile(file);
  }

  /** Applies a parsed config all-or-nothing; throws ReloadRejected with the running config kept. */
  reload(next: Config): Promise<ReloadPlan> {
    return this.reloader.reload(next);
  }

  /**
   * Stops every part in reverse start order, each bounded in time, and always closes the store:
   * a part that hangs or throws is logged and skipped, never a reason to leave SQLite open.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopParts();
    return this.stopping;
  }

  private async stopParts(): Promise<void> {
    try {
      this.systemd.stopping();
      this.systemd.stopWatchdog();
      await this.runner.stopAll();
    } finally {
      this.closeStore();
      this.logger.info('lintel stopped');
    }
  }

  /** Idempotent and synchronous: also the last resort of a process that is exiting. */
  closeStore(): void {
    this.core.store.close();
  }

  status(): GatewayStatus {
    return buildStatus({
      ...mergeStatusParts(this.runner.status()),
      config: this.config,
      version: VERSION,
      startedAt: this.startedAt,
      now: this.clock.now(),
    });
  }

  /** The index every decision reads now (a rebuild swaps it: hold the gateway, not the index). */
  get index(): AccessIndex {
    return this.core.index.index;
  }

  get store(): Store {
    return this.core.store.store;
  }

  /** For the reloader: its mapping transaction runs on its own thread (store/reload-writes.ts). */
  get reloadWrites(): StorePart['site']['reloadWrites'] {
    return this.core.store.site.reloadWrites;
  }

  get audit(): AuditLog {
    return this.core.store.site.audit;
  }

  get relay(): DoorRelay {
    return this.core.relay.relay;
  }

  /** Doors held unlocked (scheduled unlock, first-person-in, operator holds). */
  get doorHold(): DoorHold {
    return this.core.doorHold.doorHold;
  }

  /** The door alarms (contact sensor): listed, followed and acknowledged here. */
  get alarms(): AlarmSource {
    return this.core.alarms.alarms();
  }

  get upstream(): UpstreamLink | null {
    return this.core.upstream.link;
  }

  /** For the reloader: each location's link resubscribes for its own resources (parts/upstream-part.ts). */
  get upstreamMapping(): ((changed: string[], config: Config) => Promise<void>) | null {
    const part = this.core.upstream;
    return part.link ? (changed, config) => part.mappingChanged(changed, config) : null;
  }

  /** For the reloader: the links a reload disconnects (parts/upstream-part.ts); null without any platform. */
  get locationLinks(): LocationLinks | null {
    return this.core.upstream.hasPlatform() ? this.core.upstream : null;
  }

  /** The operator's actions, as the console, the operator API and MQTT commands run them. */
  get actions(): OperatorActions {
    return this.core.console.actions;
  }

  /** Enrolment: which readers are armed to learn a card. */
  get learn(): LearnMode {
    return this.core.decisions.learn;
  }

  get pipeline(): BadgePipeline {
    return this.core.decisions.pipeline;
  }

  /** MQTT events, commands and Home Assistant discovery: setOperatorActions / setAlarms wire the console's. */
  get events(): EventsPart {
    return this.core.events;
  }

  get recent(): RecentDecisions {
    return this.core.decisions.recent;
  }

  /** Issues a member QR token for an email (the demo's /qr and the HTTP API use it). */
  get qrIssuer(): (email: string) => IssuedToken {
    return this.core.decisions.issueQr;
  }

  /** The embedded broker's URL when `mqtt.url` is `embedded` (the demo's door simulators connect there). */
  brokerUrl(): string | null {
    return this.core.broker.url();
  }

  address(): { host: string; port: number } | null {
    return this.core.http.address();
  }

  /** The HTTP server while it listens (the body-cap test counts what its sockets read). */
  httpServer(): Server | null {
    return this.core.http.listening();
  }
}
