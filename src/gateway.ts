import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { Readable } from 'node:stream';
import { AccessIndex } from './access/access-index.js';
import { FailureGuard } from './access/failure-guard.js';
import { linkFiles, preflight } from './config/preflight.js';
import type { ReloadPlan } from './config/reload-plan.js';
import type { Config, ReaderConfig } from './config/schema.js';
import { DoorRelay } from './doors/door-relay.js';
import { startEmbeddedBroker } from './doors/embedded-broker.js';
import { redactUrl } from './doors/mqtt-options.js';
import { createHttpApp } from './http/app.js';
import { serveGateway } from './http/serve.js';
import { allowedHostNames } from './http/request-guards.js';
import { Metrics } from './metrics.js';
import { BadgePipeline } from './pipeline/badge-pipeline.js';
import { DecisionRecorder } from './pipeline/decision-recorder.js';
import { FloodCollapser } from './pipeline/flood-collapse.js';
import { RecentDecisions } from './pipeline/recent-decisions.js';
import { QrAccess } from './qr/qr-access.js';
import { createMemberQrIssuer, type IssuedToken } from './qr/issuer.js';
import { createQrRoutes } from './qr/routes.js';
import { createReaders, type ReaderBindings } from './readers/factory.js';
import type { ReaderSource } from './readers/reader.js';
import { AuditLog } from './store/audit.js';
import { neverWaitForLocks } from './store/db.js';
import { indexSnapshotFile, openSiteStore } from './site-store.js';
import { syncFromConfig } from './store/doors.js';
import { refreshDoors, refreshPeople } from './store/index-loader.js';
import { saveIndexAtStop, startIndex } from './store/index-start.js';
import { Store } from './store/store.js';
import type { UpstreamLink } from './upstream/upstream-link.js';
import { UpstreamThread } from './upstream/upstream-thread-host.js';
import { rederiveFromConfig } from './upstream/booking-apply.js';
import { systemClock, type Clock } from './util/clock.js';
import { bounded } from './util/bounded.js';
import { errorMessage } from './util/errors.js';
import { startBackgroundTasks, type BackgroundTasks } from './background-tasks.js';
import { GatewayReloader, type ReloadTarget } from './gateway-reload.js';
import { LinkFiles } from './link-files.js';
import { startCheckpointer, type Checkpointer } from './store/checkpointer.js';
import { createLogger, setLogLevel, type Logger } from './util/log.js';
import { createSystemdNotifier, type SystemdNotifier } from './util/systemd.js';
import { VisitorGate } from './visitors/visitor-gate.js';
import { buildStatus } from './status-builder.js';
import { VERSION } from './version.js';

/** Per part, so that all of stop() stays well inside systemd's TimeoutStopSec (15 s). */
const STOP_BOUND_MS = { readers: 1500, decisions: 1500, http: 1500, upstream: 2000, relay: 2000, broker: 1000, checkpointer: 2000 } as const;

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
 * The composition root (zigbee2mqtt's controller): owns every part, starts them in dependency
 * order and stops them in reverse. Local decisions never wait for the network: the store and
 * index come first, MQTT and the platform may be down, readers start last so no badge is read
 * before the gateway can decide on it.
 */
export class Gateway implements ReloadTarget {
  /** Replaced (not mutated) by reload(): only the live fields change (config/reload-plan.ts). */
  config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * The index every decision reads, through `index`: a rebuild after a gap in the change log is
   * built beside it and swapped in here (ExternalChangeWatch), so readers hold this gateway, not
   * an AccessIndex. Everything else updates it in place.
   */
  private liveIndex = new AccessIndex();
  get index(): AccessIndex {
    return this.liveIndex;
  }
  readonly metrics = new Metrics();
  readonly recent = new RecentDecisions();
  store!: Store;
  audit!: AuditLog;
  relay!: DoorRelay;
  upstream: UpstreamLink | null = null;
  pipeline!: BadgePipeline;
  private recorder: DecisionRecorder | null = null;
  private collapser: FloodCollapser | null = null;
  private cardGuard: FailureGuard | null = null;
  http: Hono | null = null;
  /** Issues a member QR token for an email (the demo's /qr and the HTTP API use it). */
  qrIssuer: ((email: string) => IssuedToken) | null = null;
  private server: Server | null = null;
  private readers: ReaderSource[] = [];
  private broker: { url: string; close(): Promise<void> } | null = null;
  private readonly systemd: SystemdNotifier;
  private startedAt = 0;
  private checkpointer: Checkpointer | null = null;
  private httpAddress: { host: string; port: number } | null = null;
  private files: LinkFiles | null = null;
  private background: BackgroundTasks | null = null;
  private relayStarted = false;
  /** A commit's index refresh failed: rebuilt beside the live one, and never saved as a snapshot at stop. */
  private indexSuspect = false;
  private started = false;
  private stopping: Promise<void> | null = null;
  private readonly reloader: GatewayReloader;

  constructor(private readonly opts: GatewayOptions) {
    this.config = opts.config;
    this.logger = opts.logger ?? createLogger(opts.config.log.level, undefined, opts.config.log.format);
    this.clock = opts.clock ?? systemClock;
    this.systemd = opts.systemd ?? createSystemdNotifier(this.logger);
    this.reloader = new GatewayReloader(this);
  }

  async start(): Promise<void> {
    const cfg = this.config;
    // The same checks as `lintel check-config`. A file a link needs faults that link, not the start.
    const checks = preflight(cfg);
    if (checks.errors.length > 0) throw new Error(checks.errors.join('; '));
    const authToken = checks.authToken;
    const files = (this.files = new LinkFiles(linkFiles(cfg), this.metrics.registry));
    for (const f of files.list()) this.logger.error({ field: f.field, link: f.link, problem: f.problem }, 'link file unusable; the link waits and the file is read again');
    this.startedAt = this.clock.now();

    // 1. Local state: SQLite, config-owned doors and resource mapping, then the index.
    const { store, key, subjects, dbFile } = openSiteStore(cfg);
    this.store = store;
    this.checkpointer = startCheckpointer(this.store.db, dbFile, this.logger.child({ part: 'store' }));
    this.audit = new AuditLog(this.store.db);
    this.store.onCommit((change) => {
      if (change.doors) refreshDoors(this.store.db, this.index);
      if (change.people.size > 0) refreshPeople(this.store.db, this.index, change.people);
    });
    // The commit stands whatever a listener threw; an index that may have missed it is rebuilt.
    this.store.onListenerError((err) => {
      this.metrics.backgroundErrors.inc({ task: 'index-refresh' });
      this.logger.error({ err: errorMessage(err) }, 'index refresh after a commit failed; rebuilding the index beside the live one');
      this.indexSuspect = true;
      this.background?.rebuildIndex();
    });
    const changedResources = syncFromConfig(this.store, cfg);
    const accessLog = this.logger.child({ part: 'access' });
    // The live index and any rebuilt beside it (ExternalChangeWatch) are made alike.
    const newIndex = () =>
      new AccessIndex({
        subjectOf: subjects.of,
        subjectKeyId: subjects.keyId,
        onSubjectCollision: (personIds) => accessLog.warn({ personIds }, 'these people share a member-token subject: their member tokens are refused'),
      });
    this.liveIndex = newIndex();
    const { mark: changeMark } = startIndex(this.store.db, this.index, indexSnapshotFile(cfg), this.logger.child({ part: 'store' }));
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
      // Password and TLS files come from what LinkFiles read and checked, never from the path again.
      readFile: (path) => files.file(path),
    });
    if (files.ready('mqtt')) await this.startRelay();
    this.metrics.gauge('lintel_mqtt_connected', '1 when the MQTT broker is connected', () => (this.relay.connected() ? 1 : 0));

    // 3. The booking platform: optional, never blocks start-up, and runs in its own thread
    //    (upstream-thread.ts) so that callbacks, fetches and applied lists never hold the badge path.
    //    Stored bookings outlive the config: a resource whose doors changed is re-derived first.
    if (changedResources.length > 0) this.rederive(changedResources);
    if (cfg.upstream) {
      this.upstream = new UpstreamThread({
        config: cfg,
        // No token yet (file faulted): the link is disabled until LinkFiles reads one.
        token: cfg.upstream.token ?? (files.ready('upstream') && cfg.upstream.tokenFile ? files.text(cfg.upstream.tokenFile) : ''),
        clock: this.clock,
        logger: this.logger.child({ part: 'upstream' }),
        countFailure: (task) => this.metrics.backgroundErrors.inc({ task }),
        onCommitted: () => this.background?.changesCommitted(),
      });
      await this.upstream.start();
    }

    // 4. QR credentials and visitors, then the pipeline every reader feeds.
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
    const live = () => this.liveIndex;
    const qr = new QrAccess({ get index() { return live(); }, key, visitorGate, guard: new FailureGuard(cfg.bruteForce, this.logger.child({ part: 'access' })), clock: this.clock });
    const accessLogger = this.logger.child({ part: 'access' });
    this.recorder = new DecisionRecorder({ audit: this.audit, clock: this.clock, logger: accessLogger, metrics: this.metrics, recent: this.recent, maxQueuedRows: cfg.audit.maxQueuedRows });
    this.collapser = new FloodCollapser(this.recorder, this.clock, { perSecond: cfg.audit.floodRowsPerSecond });
    this.cardGuard = new FailureGuard(cfg.bruteForce.cards, accessLogger);
    this.pipeline = new BadgePipeline({ get index() { return live(); }, relay: this.relay, recorder: this.collapser, clock: this.clock, logger: accessLogger, qr, cardGuard: this.cardGuard });
    const issueQr = createMemberQrIssuer({ db: this.store.db, key, ttlSeconds: cfg.qr.ttlSeconds, clock: this.clock });
    this.qrIssuer = issueQr;

    // 5. HTTP: health, metrics, status page, operator API and the platform's callbacks.
    const allowedHosts = allowedHostNames({ bindHost: cfg.http.host, allowedHosts: cfg.http.allowedHosts, callbackUrl: cfg.upstream?.callbackUrl });
    this.http = createHttpApp({
      status: () => this.status(),
      metrics: this.metrics,
      logger: this.logger.child({ part: 'http' }),
      authToken,
      webhook: this.upstream?.webhookApp() ?? null,
      api: [createQrRoutes({ issue: issueQr })],
      allowedHosts,
      maxBodyBytes: cfg.http.maxBodyBytes,
    });
    const webhook = this.upstream && cfg.upstream ? { endpoint: this.upstream, allowedHosts, maxBytes: cfg.upstream.maxCallbackBytes } : null;
    const served = await serveGateway({ app: this.http, host: cfg.http.host, port: cfg.http.port, logger: this.logger.child({ part: 'http' }), webhook });
    this.server = served.server;
    this.httpAddress = served.address;

    // 6. Readers last: from here on a badge gets a decision, so the main thread never waits for a lock again.
    neverWaitForLocks(this.store.db);
    this.readers = createReaders(cfg.readers, {
      onLine: (reader: ReaderConfig, line: string) => this.pipeline.onLine(reader, line),
      clock: this.clock,
      logger: this.logger.child({ part: 'readers' }),
      bindings: this.opts.readerBindings ?? {},
      stdin: this.opts.stdin ?? process.stdin,
    });
    for (const r of this.readers) await r.start();

    this.background = startBackgroundTasks({
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      countFailure: (task) => this.metrics.backgroundErrors.inc({ task }),
      config: () => this.config,
      index: live,
      swapIndex: (fresh) => void (this.liveIndex = fresh),
      newIndex,
      changeMark,
      retryLinkFiles: () => this.retryLinkFiles(),
    });
    if (this.indexSuspect) this.background.rebuildIndex();

    this.started = true;
    this.systemd.ready(`deciding for ${this.index.stats().cards} cards`);
    this.systemd.startWatchdog(this.clock, () => this.store.db.open);
    this.logger.info({ site: cfg.site.id, http: this.httpAddress, mqtt: redactUrl(mqttUrl), ...this.index.stats() }, 'lintel started');
  }

  /** For the reloader: a reload while starting or stopping is refused, not half-applied. */
  running(): boolean {
    return this.started && this.stopping === null;
  }

  /** For the reloader, once the new mapping is committed: the new running config, and a re-read token. */
  commit(config: Config, token: string | null): void {
    const doorsChanged = config.doors !== this.config.doors;
    if (config.log.level !== this.config.log.level) {
      setLogLevel(this.logger, config.log.level);
      this.upstream?.setLogLevel(config.log.level);
    }
    this.config = config;
    if (doorsChanged) this.relay.setDoors(config.doors); // pulseMs, driver, topic... from the next pulse on
    this.files?.replace(linkFiles(config)); // a token file may have moved: read what is configured now
    if (token !== null) this.upstream?.setToken(token);
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
    const log = this.logger;
    try {
      this.systemd.stopping();
      this.background?.stop();
      this.systemd.stopWatchdog();
      const readers = this.readers.splice(0);
      await bounded('readers', () => Promise.allSettled(readers.map((r) => r.stop())), STOP_BOUND_MS.readers, log);
      this.collapser?.flush(); // collapsed flood rows first, into the recorder's queue
      await bounded('decisions', () => this.recorder?.flush(), STOP_BOUND_MS.decisions, log); // no read can arrive any more
      const server = this.server;
      this.server = null;
      if (server) {
        const closed = await bounded('http', () => new Promise<void>((resolve) => server.close(() => resolve())), STOP_BOUND_MS.http, log);
        if (closed === 'timeout') (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }
      await bounded('upstream', () => this.upstream?.stop(), STOP_BOUND_MS.upstream, log);
      await bounded('relay', () => this.relay?.stop(), STOP_BOUND_MS.relay, log);
      const broker = this.broker;
      this.broker = null;
      await bounded('broker', () => broker?.close(), STOP_BOUND_MS.broker, log);
      const checkpointer = this.checkpointer;
      this.checkpointer = null;
      await bounded('checkpointer', () => checkpointer?.stop(), STOP_BOUND_MS.checkpointer, log);
      // An index that once missed a commit (indexSuspect) is not written down: the next start loads the tables.
      if (this.store && !this.indexSuspect) saveIndexAtStop(this.store, this.liveIndex, this.background?.appliedSeq(), indexSnapshotFile(this.config), this.clock.now(), log.child({ part: 'store' }));
    } finally {
      this.closeStore();
      log.info('lintel stopped');
    }
  }

  /** Idempotent and synchronous: also the last resort of a process that is exiting. */
  closeStore(): void {
    if (!this.store?.db.open) return;
    try {
      this.store.close();
      this.logger.info('store closed');
    } catch (err) {
      this.logger.error({ err: errorMessage(err) }, 'store close failed');
    }
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
      auditBacklog: this.recorder?.auditBacklog(),
      linkFileFaults: this.files?.list(),
      alarms: (this.cardGuard?.locks(this.clock.now()) ?? []).map((l) => ({ kind: 'reader_locked' as const, ...l, detail: 'too many unknown card reads; every read on it is refused until then' })),
    });
  }

  private async startRelay(): Promise<void> {
    this.relayStarted = true;
    await this.relay.start();
  }

  /** The retry timer: reads faulted link files again and starts each link whose files are now usable. */
  private async retryLinkFiles(): Promise<void> {
    const files = this.files;
    if (!files || this.stopping) return;
    const healed = files.refresh();
    for (const link of healed) this.logger.info({ link }, 'link files readable again');
    // Not only the healed ones: a reload re-reads the files, and may have found them fixed already.
    if (!this.relayStarted && files.ready('mqtt')) await this.startRelay();
    const up = this.config.upstream;
    if (healed.includes('upstream') && this.upstream && up?.tokenFile) this.upstream.setToken(files.text(up.tokenFile));
  }

  /**
   * A resource whose doors changed since the last run has its stored booking grants re-derived
   * at once, ongoing bookings included, before the upstream thread starts (it subscribes to and
   * sweeps every mapped resource on its first run anyway).
   */
  private rederive(changed: string[]): void {
    rederiveFromConfig(this.store, this.config, changed, this.clock.now());
  }
}
