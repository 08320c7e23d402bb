import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AccessIndex } from './access/access-index.js';
import { FailureGuard } from './access/failure-guard.js';
import { readSecret } from './config/load.js';
import type { Config, ReaderConfig } from './config/schema.js';
import { DoorRelay } from './doors/door-relay.js';
import { startEmbeddedBroker } from './doors/embedded-broker.js';
import { redactUrl } from './doors/mqtt-options.js';
import { createHttpApp } from './http/app.js';
import { allowedHostNames } from './http/request-guards.js';
import { Metrics } from './metrics.js';
import { BadgePipeline } from './pipeline/badge-pipeline.js';
import { DecisionRecorder } from './pipeline/decision-recorder.js';
import { FloodCollapser } from './pipeline/flood-collapse.js';
import { RecentDecisions } from './pipeline/recent-decisions.js';
import { QrAccess } from './qr/qr-access.js';
import { loadOrCreateTokenKey } from './qr/token-key.js';
import { createMemberQrIssuer, type IssuedToken } from './qr/issuer.js';
import { createQrRoutes } from './qr/routes.js';
import { createReaders, type ReaderBindings } from './readers/factory.js';
import type { ReaderSource } from './readers/reader.js';
import { AuditLog } from './store/audit.js';
import { openDatabase } from './store/db.js';
import { syncFromConfig } from './store/doors.js';
import { loadIndex, refreshDoors, refreshPeople } from './store/index-loader.js';
import { Store } from './store/store.js';
import { UpstreamSync } from './upstream/upstream-sync.js';
import { rederiveBookingGrants } from './upstream/booking-apply.js';
import { systemClock, type Clock, type Timer } from './util/clock.js';
import { watchExternalCommits } from './store/external-changes.js';
import { pruneEnded } from './store/housekeeping.js';
import { pruneAudit } from './store/audit-retention.js';
import { runGuarded } from './util/guarded.js';
import { startCheckpointer, type Checkpointer } from './store/checkpointer.js';
import { createLogger, type Logger } from './util/log.js';
import { createSystemdNotifier, type SystemdNotifier } from './util/systemd.js';
import { VisitorGate } from './visitors/visitor-gate.js';
import { buildStatus } from './status-builder.js';
import { VERSION } from './version.js';

export interface GatewayOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  readerBindings?: ReaderBindings;
  /** stdin in production; tests and the demo pass their own stream. */
  stdin?: Readable;
  fetch?: typeof fetch;
  systemd?: SystemdNotifier;
  /** Intercepts stdin lines before they reach the reader pipeline (the demo's `/commands`). */
  stdinFilter?: (line: string) => boolean;
}

/**
 * The composition root (zigbee2mqtt's controller): owns every part, starts them in dependency
 * order and stops them in reverse. Local decisions never wait for the network: the store and
 * index come first, MQTT and the platform may be down, readers start last so no badge is read
 * before the gateway can decide on it.
 */
export class Gateway {
  /** Replaced (not mutated) by reload(): only the resource mapping changes live. */
  config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly index = new AccessIndex();
  readonly metrics = new Metrics();
  readonly recent = new RecentDecisions();
  store!: Store;
  audit!: AuditLog;
  relay!: DoorRelay;
  upstream: UpstreamSync | null = null;
  pipeline!: BadgePipeline;
  private recorder: DecisionRecorder | null = null;
  private collapser: FloodCollapser | null = null;
  private cardGuard: FailureGuard | null = null;
  http: Hono | null = null;
  /** Issues a member QR token for an email (the demo's /qr and the HTTP API use it). */
  qrIssuer: ((email: string) => IssuedToken) | null = null;
  private server: ServerType | null = null;
  private readers: ReaderSource[] = [];
  private broker: { url: string; close(): Promise<void> } | null = null;
  private readonly systemd: SystemdNotifier;
  private startedAt = 0;
  private externalWatch: Timer | null = null;
  private housekeeping: Timer | null = null;
  private checkpointer: Checkpointer | null = null;
  private httpAddress: { host: string; port: number } | null = null;

  constructor(private readonly opts: GatewayOptions) {
    this.config = opts.config;
    this.logger = opts.logger ?? createLogger(opts.config.log.level);
    this.clock = opts.clock ?? systemClock;
    this.systemd = opts.systemd ?? createSystemdNotifier(this.logger);
  }

  async start(): Promise<void> {
    const cfg = this.config;
    const authToken = readSecret(cfg.http.authToken, cfg.http.authTokenFile);
    if (!authToken && !isLoopback(cfg.http.host)) {
      throw new Error(`http.host ${cfg.http.host} is not loopback: set http.authToken or http.authTokenFile (fail closed)`);
    }
    this.startedAt = this.clock.now();

    // 1. Local state: SQLite, config-owned doors and resource mapping, then the index.
    const dbFile = join(cfg.dataDir, 'lintel.db');
    this.store = new Store(openDatabase(dbFile));
    this.checkpointer = startCheckpointer(this.store.db, dbFile, this.logger.child({ part: 'store' }));
    this.audit = new AuditLog(this.store.db);
    this.store.onCommit((change) => {
      if (change.doors) refreshDoors(this.store.db, this.index);
      if (change.people.size > 0) refreshPeople(this.store.db, this.index, change.people);
    });
    const changedResources = syncFromConfig(this.store, cfg);
    loadIndex(this.store.db, this.index);
    this.metrics.gauge('lintel_index_cards', 'Cards in the in-memory index', () => this.index.stats().cards);
    this.metrics.gauge('lintel_index_grants', 'Grants in the in-memory index', () => this.index.stats().grants);

    // 2. Doors: the broker may be down; the relay reconnects by itself and never queues unlocks.
    let mqttUrl = cfg.mqtt.url;
    if (mqttUrl === 'embedded') {
      this.broker = await startEmbeddedBroker({ host: '127.0.0.1', port: cfg.mqtt.embeddedPort });
      mqttUrl = this.broker.url;
    }
    this.relay = new DoorRelay({
      mqtt: cfg.mqtt,
      url: mqttUrl,
      // The embedded broker (aedes) speaks MQTT 3.1.1 only; the payload's expiresAt still protects.
      protocolVersion: this.broker ? 4 : cfg.mqtt.protocolVersion,
      siteId: cfg.site.id,
      doors: cfg.doors,
      clock: this.clock,
      logger: this.logger.child({ part: 'doors' }),
      password: readSecret(cfg.mqtt.password, cfg.mqtt.passwordFile),
    });
    await this.relay.start();
    this.metrics.gauge('lintel_mqtt_connected', '1 when the MQTT broker is connected', () => (this.relay.connected() ? 1 : 0));

    // 3. The booking platform: optional, and never blocks start-up.
    if (cfg.upstream) {
      this.upstream = new UpstreamSync({
        config: cfg.upstream,
        grace: { beforeMin: cfg.access.graceBeforeMinutes, afterMin: cfg.access.graceAfterMinutes },
        resources: cfg.resources,
        store: this.store,
        clock: this.clock,
        logger: this.logger.child({ part: 'upstream' }),
        fetch: this.opts.fetch,
        token: readSecret(cfg.upstream.token, cfg.upstream.tokenFile) ?? '',
      });
      await this.upstream.start();
    }
    if (changedResources.length > 0) await this.mappingChanged(changedResources);

    // 4. QR credentials and visitors, then the pipeline every reader feeds.
    const key = loadOrCreateTokenKey(cfg.qr.keyFile ?? join(cfg.dataDir, 'qr-token.key'));
    const visitorGate = this.upstream
      ? new VisitorGate({
          verifier: this.upstream.client,
          db: this.store.db,
          config: cfg.visitors,
          doors: cfg.doors,
          deviceId: cfg.visitors.deviceId ?? `lintel-${cfg.site.id}`,
          clock: this.clock,
          logger: this.logger.child({ part: 'visitors' }),
        })
      : null;
    const qr = new QrAccess({ index: this.index, key, visitorGate, guard: new FailureGuard(cfg.bruteForce, this.logger.child({ part: 'access' })), clock: this.clock });
    const accessLogger = this.logger.child({ part: 'access' });
    this.recorder = new DecisionRecorder({ audit: this.audit, clock: this.clock, logger: accessLogger, metrics: this.metrics, recent: this.recent });
    this.collapser = new FloodCollapser(this.recorder, this.clock, {
      perSecond: cfg.audit.floodRowsPerSecond,
      countCollapsed: (d) => this.metrics.decisions.inc({ result: d.result, reason: d.reason }),
    });
    this.cardGuard = new FailureGuard(cfg.bruteForce.cards, accessLogger);
    this.pipeline = new BadgePipeline({ index: this.index, relay: this.relay, recorder: this.collapser, clock: this.clock, logger: accessLogger, qr, cardGuard: this.cardGuard });
    const issueQr = createMemberQrIssuer({ db: this.store.db, key, ttlSeconds: cfg.qr.ttlSeconds, clock: this.clock });
    this.qrIssuer = issueQr;

    // 5. HTTP: health, metrics, status page, operator API and the platform's callbacks.
    this.http = createHttpApp({
      status: () => this.status(),
      metrics: this.metrics,
      logger: this.logger.child({ part: 'http' }),
      authToken,
      webhook: this.upstream?.webhookApp() ?? null,
      api: [createQrRoutes({ issue: issueQr })],
      allowedHosts: allowedHostNames({ bindHost: cfg.http.host, allowedHosts: cfg.http.allowedHosts, callbackUrl: cfg.upstream?.callbackUrl }),
      maxBodyBytes: cfg.http.maxBodyBytes,
    });
    this.httpAddress = await this.listen(this.http, cfg.http.host, cfg.http.port);

    // 6. Readers last: from here on a badge gets a decision.
    this.readers = createReaders(cfg.readers, {
      onLine: (reader: ReaderConfig, line: string) => this.pipeline.onLine(reader, line),
      clock: this.clock,
      logger: this.logger.child({ part: 'readers' }),
      bindings: this.opts.readerBindings ?? {},
      stdin: this.opts.stdin ?? process.stdin,
      stdinFilter: this.opts.stdinFilter,
    });
    for (const r of this.readers) await r.start();

    // Another process (`lintel cards import`) may commit to the same file: pick it up within a second.
    this.externalWatch = watchExternalCommits(this.store.db, this.clock, () => {
      loadIndex(this.store.db, this.index);
      this.logger.info(this.index.stats(), 'index reloaded after an external change');
    });

    this.housekeeping = this.clock.setInterval(() => {
      const pruned = pruneEnded(this.store, this.clock.now());
      if (pruned.grants + pruned.appointments > 0) this.logger.info(pruned, 'pruned ended grants and appointments');
      void runGuarded('audit-retention', async () => void (await pruneAudit(this.store, this.clock.now(), { retentionDays: this.config.audit.retentionDays, archiveDir: join(this.config.dataDir, 'audit-archive') })), { logger: this.logger, countFailure: (task) => this.metrics.backgroundErrors.inc({ task }) });
    }, 3600_000);

    this.systemd.ready(`deciding for ${this.index.stats().cards} cards`);
    this.systemd.startWatchdog(this.clock, () => this.store.db.open);
    this.logger.info({ site: cfg.site.id, http: this.httpAddress, mqtt: redactUrl(mqttUrl), ...this.index.stats() }, 'lintel started');
  }

  /** Re-applies the parts of a changed config that can change live: platform token and resource mapping. */
  async reload(next: Config): Promise<void> {
    if (next.upstream && this.upstream) {
      const token = readSecret(next.upstream.token, next.upstream.tokenFile);
      if (token) this.upstream.setToken(token);
    }
    this.config = { ...this.config, resources: next.resources };
    const changed = syncFromConfig(this.store, this.config);
    if (changed.length > 0) await this.mappingChanged(changed);
    this.logger.info({ changedResources: changed.length }, 'configuration reloaded');
  }

  async stop(): Promise<void> {
    this.systemd.stopping();
    this.externalWatch?.cancel();
    this.housekeeping?.cancel();
    this.systemd.stopWatchdog();
    for (const r of this.readers.splice(0)) await r.stop().catch(() => undefined);
    this.collapser?.flush(); // collapsed flood rows first, into the recorder's queue
    this.recorder?.flush(); // no read can arrive any more: write the decisions still queued
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
    await this.upstream?.stop();
    await this.relay?.stop();
    await this.broker?.close();
    this.broker = null;
    await this.checkpointer?.stop();
    this.checkpointer = null;
    this.store?.close();
    this.logger.info('lintel stopped');
  }

  /** The embedded broker's URL when `mqtt.url` is `embedded` (the demo's door simulators connect there). */
  brokerUrl(): string | null {
    return this.broker?.url ?? null;
  }

  address(): { host: string; port: number } | null {
    return this.httpAddress;
  }

  status() {
    return buildStatus({
      config: this.config,
      version: VERSION,
      startedAt: this.startedAt,
      now: this.clock.now(),
      index: this.index,
      relay: this.relay,
      readers: this.readers,
      upstream: this.upstream,
      recent: this.recent,
      dbOpen: this.store?.db.open ?? false,
      alarms: (this.cardGuard?.locks(this.clock.now()) ?? []).map((l) => ({ kind: 'reader_locked' as const, ...l, detail: 'too many unknown card reads; every read on it is refused until then' })),
    });
  }

  /**
   * Stored bookings outlive the config: a resource whose doors changed has its booking grants
   * re-derived at once, ongoing bookings included — by the platform sync when there is one
   * (it also resubscribes), else directly from the stored appointments.
   */
  private async mappingChanged(changed: string[]): Promise<void> {
    const cfg = this.config;
    if (this.upstream) return this.upstream.mappingChanged(changed, cfg.resources);
    const overrides = new Map(cfg.resources.map((r) => [r.id, r]));
    const grace = { beforeMin: cfg.access.graceBeforeMinutes, afterMin: cfg.access.graceAfterMinutes };
    rederiveBookingGrants(this.store, changed, grace, overrides, this.clock.now());
  }

  private listen(app: Hono, host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => resolve({ host, port: info.port }));
      server.once('error', reject);
      this.server = server;
    });
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
