import { isLinked, locationOfDoor, locationView, siteLocations, webhookPaths, type SiteLocation } from '../config/locations.js';
import type { Config, UpstreamConfig } from '../config/schema.js';
import type { StatusPart } from '../status-builder.js';
import type { DetachedLinks, LocationLinks } from '../gateway-reload.js';
import { logRevoked, revokeLocation } from '../store/location-revoke.js';
import { adoptUnlocatedSubscriptions } from '../store/upstream-state.js';
import { sumReports, type ReconcileReport } from '../upstream/reconciler.js';
import type { UpstreamLink } from '../upstream/upstream-link.js';
import { UpstreamThread } from '../upstream/upstream-thread-host.js';
import { unsubscribeLocation, unsubscribeStored } from '../upstream/unsubscribe.js';
import type { FilesPart } from './files-part.js';
import type { ConfigChange, Part, PartContext, PartRoutes } from './part.js';
import type { StorePart } from './store-part.js';
import { errorMessage } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { CallbackTarget } from '../http/webhook-fast-path.js';
import { locationWebhookApp } from './upstream-webhooks.js';

/** One location as status and the console show it (README "Locations"). */
export interface LocationStatus {
  id: string;
  name: string;
  connection: SiteLocation['connection'];
  onDisconnect: SiteLocation['onDisconnect'];
  upstream: ReturnType<UpstreamLink['status']> | null;
}

/**
 * The booking platforms: one link per connected location with an `upstream`
 * (config/locations.ts; a config without `locations` is one implicit location), optional, never
 * blocking start-up, each in its own thread (upstream-thread.ts) so that callbacks, fetches and
 * applied lists never hold the badge path. The threads share the SQLite file; each sees only its
 * own location's stored state. A disconnected location has no link: callbacks at its path get
 * 404, and with `onDisconnect: revoke` what it granted is taken away here at start. A reload
 * disconnects (detach, before the reload writes: gateway-reload.ts) or connects (reloaded) a
 * location's link; which locations exist, and their webhook paths, change on a restart only.
 */
export class UpstreamPart implements Part, LocationLinks {
  readonly name = 'upstream';
  readonly stopBoundMs = 2000;
  private readonly links = new Map<string, UpstreamThread>();
  /** Each link's metrics watch, ended with the link: a reload storm must not pile up stopped links in the registry. */
  private readonly unwatch = new Map<string, () => void>();
  private locations: SiteLocation[] = [];
  private ctx: PartContext | null = null;
  /** Made once per part and per location, not per reload: pino keeps a reference to each child for setLogLevel. */
  private logger: Logger = silentLogger;
  private readonly linkLoggers = new Map<string, Logger>();
  /** Location id by webhook path: fixed at start (locations are added or removed on a restart only, reload-locations.ts). */
  private byPath = new Map<string, string>();
  private committed: Array<() => void> = [];

  constructor(
    private readonly files: FilesPart,
    private readonly store: StorePart,
  ) {}

  async start(ctx: PartContext): Promise<void> {
    this.ctx = ctx;
    const cfg = ctx.config();
    this.locations = siteLocations(cfg);
    this.byPath = new Map(this.locations.flatMap((loc) => (loc.upstream ? webhookPaths(loc, this.locations).map((p): [string, string] => [p, loc.id]) : [])));
    const logger = (this.logger = ctx.logger.child({ part: 'upstream' }));
    const { store } = this.store.site;
    // Subscriptions stored before locations existed are the first location's (where upstream moves to).
    const adopted = store.transact((tx) => adoptUnlocatedSubscriptions(tx, this.locations[0]!.id));
    if (adopted > 0) logger.info({ location: this.locations[0]!.id, subscriptions: adopted }, 'stored platform subscriptions assigned to the first location');
    for (const loc of this.locations) {
      if (loc.connection !== 'disconnected') continue;
      // Subscriptions its link left when it last ran: deleted behind the start, never waited for.
      if (loc.upstream) unsubscribeStored({ store, upstream: loc.upstream, token: this.tokenOf(loc.upstream), location: loc.id, clock: ctx.clock, logger });
      if (loc.onDisconnect === 'keep') {
        logger.info({ location: loc.id }, 'location disconnected: access already granted stays until it ends; nothing new is granted');
        continue;
      }
      logRevoked(logger, loc.id, revokeLocation(store, { location: loc.id, resources: loc.resources.map((r) => r.id) }, ctx.clock.now()));
    }
    for (const loc of this.locations) if (isLinked(loc)) await this.startLink(ctx, cfg, loc, this.tokenOf(loc.upstream));
    this.files.onRetried((healed) => {
      if (!healed.includes('upstream')) return;
      for (const loc of siteLocations(ctx.config())) {
        const tokenFile = loc.upstream?.tokenFile;
        if (tokenFile && loc.upstream?.token === undefined) this.links.get(loc.id)?.setToken(this.files.linkFiles.text(tokenFile));
      }
    });
  }

  private async startLink(ctx: PartContext, cfg: Config, loc: SiteLocation & { upstream: UpstreamConfig }, token: string): Promise<void> {
    const thread = new UpstreamThread({
      config: locationView(cfg, loc),
      token,
      clock: ctx.clock,
      logger: this.linkLogger(ctx, loc),
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
      onCommitted: () => {
        for (const fn of this.committed) fn();
      },
      // The implicit location's replay ids stay unprefixed: those stored before locations still count.
      location: { key: loc.id, replayPrefix: loc.implicit ? '' : `${loc.id}:` },
    });
    this.links.set(loc.id, thread);
    this.unwatch.set(loc.id, ctx.metrics.watchUpstream(thread, loc.id));
    await thread.start();
  }

  /**
   * A reload disconnects these locations: each link leaves the routing first (its callbacks get
   * 404 from now), then its thread stops (bounded, UpstreamThread.stop), so nothing it was
   * fetching lands after the reload's revoke. The handle restarts them if the reload then
   * fails, or deletes their platform subscriptions once it committed.
   */
  async detach(ids: readonly string[]): Promise<DetachedLinks> {
    const stopped: Array<{ loc: SiteLocation & { upstream: UpstreamConfig }; thread: UpstreamThread }> = [];
    for (const id of ids) {
      const thread = this.links.get(id);
      const loc = this.locations.find((l) => l.id === id);
      if (!thread || !loc || !isLinked(loc)) continue;
      this.links.delete(id);
      this.unwatch.get(id)?.();
      this.unwatch.delete(id);
      stopped.push({ loc, thread });
    }
    const ctx = this.ctx!;
    // Bounded (UpstreamThread.stop terminates a thread that does not end); a failure is logged, the reload goes on.
    await Promise.all(stopped.map(({ loc, thread }) => thread.stop().catch((err: unknown) => this.logger.warn({ location: loc.id, err: errorMessage(err) }, 'the link of a disconnected location did not stop cleanly'))));
    return {
      restore: async () => {
        if (ctx.stopping()) return;
        for (const { loc, thread } of stopped) await this.startLink(ctx, ctx.config(), loc, thread.currentToken());
      },
      unsubscribe: async () => {
        const { logger } = this;
        const { store } = this.store.site;
        await Promise.all(stopped.map(({ loc, thread }) => unsubscribeLocation({ store, client: thread.client, location: loc.id, clock: ctx.clock, logger, boundMs: loc.upstream.requestTimeoutMs })));
      },
    };
  }

  private linkLogger(ctx: PartContext, loc: SiteLocation): Logger {
    let logger = this.linkLoggers.get(loc.id);
    if (!logger) this.linkLoggers.set(loc.id, (logger = ctx.logger.child({ part: 'upstream', ...(loc.implicit ? {} : { location: loc.id }) })));
    return logger;
  }

  /** The token when readable: a token file that faulted leaves the link disabled until a retry reads it. */
  private tokenOf(up: UpstreamConfig): string {
    if (up.token !== undefined) return up.token;
    if (!up.tokenFile) return '';
    try {
      return this.files.linkFiles.text(up.tokenFile);
    } catch {
      // Not read (faulted): the link waits for a retry to read it; the files part logs the fault itself.
      return '';
    }
  }

  /** The first location's link (the implicit one without `locations`), or null: what one-link callers read. */
  get link(): UpstreamLink | null {
    const first = this.locations.find((l) => this.links.has(l.id));
    return first ? this.links.get(first.id)! : null;
  }

  /** The running link of a location; null when it is disconnected or has no platform. */
  linkOf(locationId: string): UpstreamLink | null {
    return this.links.get(locationId) ?? null;
  }

  /** The link that verifies visitor codes read at this door: its location's. */
  linkForDoor(doorId: string): UpstreamLink | null {
    const loc = locationOfDoor(this.locations, doorId);
    return loc ? this.linkOf(loc.id) : null;
  }

  /** Every running link with its location, in config order (the console's reconcile runs them all). */
  runningLinks(): Array<{ location: string; link: UpstreamLink }> {
    return this.locations.filter((l) => this.links.has(l.id)).map((l) => ({ location: l.id, link: this.links.get(l.id)! }));
  }

  /**
   * The console's "reconcile now": every running link swept, at once, as one report (sums;
   * the latest end and the longest sweep). Rejects when one link cannot, like one link did.
   */
  async reconcileAll(): Promise<ReconcileReport> {
    const running = this.runningLinks();
    // A reload may have disconnected every location since start (or connect one later).
    if (running.length === 0) throw new Error('no booking link runs: every location with a platform is disconnected');
    return sumReports(await Promise.all(running.map((l) => l.link.reconcileNow())));
  }

  /** Whether any location has a platform account: then the webhook paths are mounted (a disconnected one answers 404). */
  hasPlatform(): boolean {
    return this.locations.some((l) => l.upstream !== undefined);
  }

  /** The link answering a callback at `path` (http/webhook-fast-path.ts, upstream-webhooks.ts); null: 404. */
  callbackTarget(path: string): CallbackTarget | null {
    const id = this.byPath.get(path);
    const link = id === undefined ? undefined : this.links.get(id);
    const upstream = this.locations.find((l) => l.id === id)?.upstream;
    return link && upstream ? { endpoint: link, maxBytes: upstream.maxCallbackBytes } : null;
  }

  /**
   * A reload changed resources (already committed): each running link gets its location's
   * resources of the new config, and the changed ids it had or has now (locations themselves
   * change on a restart only, reload-plan.ts).
   */
  async mappingChanged(changed: readonly string[], config: Config): Promise<void> {
    const next = siteLocations(config);
    const before = this.locations;
    // Every location takes its new doors and resources, a disconnected one too: it may connect at a later reload.
    this.locations = before.map((l) => {
      const now = next.find((n) => n.id === l.id);
      return now ? { ...l, resources: now.resources, doors: now.doors } : l;
    });
    await Promise.all(
      before.map(async (was) => {
        const link = this.links.get(was.id);
        const now = next.find((l) => l.id === was.id);
        if (!link || !now) return;
        const mine = new Set([...was.resources, ...now.resources].map((r) => r.id));
        const ids = changed.filter((id) => mine.has(id));
        if (ids.length > 0) await link.mappingChanged(ids, now.resources);
      }),
    );
  }

  /** `fn` runs each time a thread committed to SQLite (the change watcher applies it at once). */
  onCommitted(fn: () => void): void {
    this.committed.push(fn);
  }

  async stop(): Promise<void> {
    this.committed = [];
    const links = [...this.links.values()];
    this.links.clear();
    for (const end of this.unwatch.values()) end();
    this.unwatch.clear();
    await Promise.all(links.map((l) => l.stop()));
  }

  routes(): PartRoutes {
    return this.hasPlatform() ? { webhook: locationWebhookApp((path) => this.callbackTarget(path)) } : {};
  }

  status(): StatusPart {
    return { upstream: this.link, locations: () => this.locationStatus() };
  }

  /** Every location with its link's status (null when none runs). */
  locationStatus(): LocationStatus[] {
    return this.locations.map((l) => ({
      id: l.id,
      name: l.name,
      connection: l.connection,
      onDisconnect: l.onDisconnect,
      upstream: this.links.get(l.id)?.status() ?? null,
    }));
  }

  /**
   * A committed reload: each location takes its live fields (connection, onDisconnect, name, token;
   * its doors and resources change through mappingChanged), running links their re-read token,
   * and a location connected now starts its link (subscribe and sweep run behind, never waited for).
   * Links of locations disconnected now were stopped by detach() before the reload wrote.
   */
  reloaded(change: ConfigChange): void {
    if (change.config.log.level !== change.previous.log.level) for (const l of this.links.values()) l.setLogLevel(change.config.log.level);
    const next = siteLocations(change.config);
    this.locations = this.locations.map((was) => {
      const now = next.find((l) => l.id === was.id);
      return now ? { ...now, resources: was.resources, doors: was.doors } : was;
    });
    for (const [id, token] of change.upstreamTokens) this.links.get(id)?.setToken(token);
    const ctx = this.ctx;
    if (!ctx || ctx.stopping()) return;
    const { logger } = this;
    for (const loc of next) {
      if (!isLinked(loc) || this.links.has(loc.id) || !this.locations.some((l) => l.id === loc.id)) continue;
      logger.info({ location: loc.id }, 'location connected by a reload: its link starts (subscribe and reconcile)');
      this.startLink(ctx, change.config, loc, change.upstreamTokens.get(loc.id) ?? this.tokenOf(loc.upstream)).catch((err: unknown) => {
        ctx.metrics.backgroundErrors.inc({ task: 'upstream-connect' });
        logger.error({ location: loc.id, err: errorMessage(err) }, 'the link of a location connected by a reload did not start; restart the gateway');
      });
    }
    const was = siteLocations(change.previous);
    for (const loc of next) {
      const before = was.find((l) => l.id === loc.id)?.connection;
      if (before === 'connected' && loc.connection === 'disconnected' && loc.onDisconnect === 'keep') {
        logger.info({ location: loc.id }, 'location disconnected: access already granted stays until it ends; nothing new is granted');
      }
    }
  }
}
