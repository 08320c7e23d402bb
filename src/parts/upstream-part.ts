import { isLinked, locationOfDoor, locationView, siteLocations, webhookPaths, type SiteLocation } from '../config/locations.js';
import type { Config, UpstreamConfig } from '../config/schema.js';
import type { StatusPart } from '../status-builder.js';
import { revokeLocation } from '../store/location-revoke.js';
import { adoptUnlocatedSubscriptions } from '../store/upstream-state.js';
import type { ReconcileReport } from '../upstream/reconciler.js';
import type { UpstreamLink } from '../upstream/upstream-link.js';
import { UpstreamThread } from '../upstream/upstream-thread-host.js';
import type { FilesPart } from './files-part.js';
import type { ConfigChange, Part, PartContext, PartRoutes } from './part.js';
import type { StorePart } from './store-part.js';
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
 * 404, and with `onDisconnect: revoke` what it granted is taken away here at start.
 */
export class UpstreamPart implements Part {
  readonly name = 'upstream';
  readonly stopBoundMs = 2000;
  private readonly links = new Map<string, UpstreamThread>();
  private locations: SiteLocation[] = [];
  /** Location id by webhook path: fixed at start (locations change on a restart only, reload-plan.ts). */
  private byPath = new Map<string, string>();
  private committed: Array<() => void> = [];

  constructor(
    private readonly files: FilesPart,
    private readonly store: StorePart,
  ) {}

  async start(ctx: PartContext): Promise<void> {
    const cfg = ctx.config();
    this.locations = siteLocations(cfg);
    this.byPath = new Map(this.locations.flatMap((loc) => (loc.upstream ? webhookPaths(loc, this.locations).map((p): [string, string] => [p, loc.id]) : [])));
    const logger = ctx.logger.child({ part: 'upstream' });
    const { store } = this.store.site;
    // Subscriptions stored before locations existed are the first location's (where upstream moves to).
    const adopted = store.transact((tx) => adoptUnlocatedSubscriptions(tx, this.locations[0]!.id));
    if (adopted > 0) logger.info({ location: this.locations[0]!.id, subscriptions: adopted }, 'stored platform subscriptions assigned to the first location');
    for (const loc of this.locations) {
      if (loc.connection !== 'disconnected') continue;
      if (loc.onDisconnect === 'keep') {
        logger.info({ location: loc.id }, 'location disconnected: access already granted stays until it ends; nothing new is granted');
        continue;
      }
      const counts = revokeLocation(store, { location: loc.id, resources: loc.resources.map((r) => r.id) }, ctx.clock.now());
      logger.warn({ location: loc.id, ...counts }, 'location disconnected with onDisconnect: revoke: its bookings, booking grants and plan subscriptions are revoked');
    }
    for (const loc of this.locations) if (isLinked(loc)) await this.startLink(ctx, cfg, loc);
    this.files.onRetried((healed) => {
      if (!healed.includes('upstream')) return;
      for (const loc of siteLocations(ctx.config())) {
        const tokenFile = loc.upstream?.tokenFile;
        if (tokenFile && loc.upstream?.token === undefined) this.links.get(loc.id)?.setToken(this.files.linkFiles.text(tokenFile));
      }
    });
  }

  private async startLink(ctx: PartContext, cfg: Config, loc: SiteLocation & { upstream: UpstreamConfig }): Promise<void> {
    const thread = new UpstreamThread({
      config: locationView(cfg, loc),
      token: this.tokenOf(loc.upstream),
      clock: ctx.clock,
      logger: ctx.logger.child({ part: 'upstream', ...(loc.implicit ? {} : { location: loc.id }) }),
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
      onCommitted: () => {
        for (const fn of this.committed) fn();
      },
      // The implicit location's replay ids stay unprefixed: those stored before locations still count.
      location: { key: loc.id, replayPrefix: loc.implicit ? '' : `${loc.id}:` },
    });
    this.links.set(loc.id, thread);
    ctx.metrics.watchUpstream(thread, loc.id);
    await thread.start();
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
    const reports = await Promise.all(this.runningLinks().map((l) => l.link.reconcileNow()));
    const sum = (k: 'resources' | 'appointments' | 'changed' | 'failed') => reports.reduce((n, r) => n + r[k], 0);
    return {
      at: Math.max(...reports.map((r) => r.at)),
      durationMs: Math.max(...reports.map((r) => r.durationMs)),
      resources: sum('resources'),
      appointments: sum('appointments'),
      changed: sum('changed'),
      failed: sum('failed'),
    };
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
    await Promise.all(
      this.locations.map(async (was) => {
        const link = this.links.get(was.id);
        const now = next.find((l) => l.id === was.id);
        if (!link || !now) return;
        const mine = new Set([...was.resources, ...now.resources].map((r) => r.id));
        const ids = changed.filter((id) => mine.has(id));
        this.locations = this.locations.map((l) => (l.id === was.id ? { ...l, resources: now.resources, doors: now.doors } : l));
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

  reloaded(change: ConfigChange): void {
    if (change.config.log.level !== change.previous.log.level) for (const l of this.links.values()) l.setLogLevel(change.config.log.level);
    // The top-level upstream's token (reload-plan.ts keeps location tokens for a restart).
    const implicit = this.locations.find((l) => l.implicit);
    if (change.upstreamToken !== null && implicit) this.links.get(implicit.id)?.setToken(change.upstreamToken);
  }
}
