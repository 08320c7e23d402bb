import type { Config, ResourceConfig, UpstreamConfig } from './schema.js';

/*
 * Locations (issue 12): one gateway serving several sites of one operator, each with its own
 * platform account (upstream), doors and resources. Everything that needs to know which
 * location a door, resource or link belongs to reads it here, from one pure function, so the
 * rule "no `locations` means one implicit location named after the site, holding everything,
 * with the top-level `upstream`" lives in one place and old configs keep meaning what they meant.
 */

export type LocationConnection = 'connected' | 'disconnected';
export type DisconnectPolicy = 'keep' | 'revoke';

export interface SiteLocation {
  id: string;
  name: string;
  /** True for the location a config without `locations` means (id = site.id). */
  implicit: boolean;
  upstream: UpstreamConfig | undefined;
  connection: LocationConnection;
  onDisconnect: DisconnectPolicy;
  doors: string[];
  resources: ResourceConfig[];
  /** Where its platform calls back (http/app.ts mounts one route per linked location). */
  webhookPath: string;
}

/** The path of the implicit location, and of a single-location config (kept for compatibility). */
export const BASE_WEBHOOK_PATH = '/webhooks/offision';

type LocationsInput = Pick<Config, 'site' | 'doors' | 'resources' | 'upstream' | 'locations'>;

/**
 * The config's locations, in config order. With one location, a door or resource that names
 * none belongs to it (the schema allows that); with several, the schema made every one name its own.
 */
export function siteLocations(cfg: LocationsInput): SiteLocation[] {
  const declared = cfg.locations ?? [];
  if (declared.length === 0) {
    return [
      {
        id: cfg.site.id,
        name: cfg.site.name ?? cfg.site.id,
        implicit: true,
        upstream: cfg.upstream,
        connection: 'connected',
        onDisconnect: 'keep',
        doors: cfg.doors.map((d) => d.id),
        resources: cfg.resources,
        webhookPath: BASE_WEBHOOK_PATH,
      },
    ];
  }
  const only = declared.length === 1 ? declared[0]!.id : null;
  const owner = (named: string | undefined) => named ?? only;
  return declared.map((l) => ({
    id: l.id,
    name: l.name ?? l.id,
    implicit: false,
    upstream: l.upstream,
    connection: l.connection,
    onDisconnect: l.onDisconnect,
    doors: cfg.doors.filter((d) => owner(d.location) === l.id).map((d) => d.id),
    resources: cfg.resources.filter((r) => owner(r.location) === l.id),
    webhookPath: `${BASE_WEBHOOK_PATH}/${l.id}`,
  }));
}

/** The paths a location's platform may call: its own, and the base path when it is the only location. */
export function webhookPaths(loc: SiteLocation, all: readonly SiteLocation[]): string[] {
  if (loc.implicit) return [BASE_WEBHOOK_PATH];
  return all.length === 1 ? [loc.webhookPath, BASE_WEBHOOK_PATH] : [loc.webhookPath];
}

/** The location a door belongs to; undefined for a door the config does not name. */
export function locationOfDoor(locations: readonly SiteLocation[], doorId: string): SiteLocation | undefined {
  return locations.find((l) => l.doors.includes(doorId));
}

export function locationOfResource(locations: readonly SiteLocation[], resourceId: string): SiteLocation | undefined {
  return locations.find((l) => l.resources.some((r) => r.id === resourceId));
}

/** A location whose link runs: connected and with a platform account. */
export function isLinked(loc: SiteLocation): loc is SiteLocation & { upstream: UpstreamConfig } {
  return loc.connection === 'connected' && loc.upstream !== undefined;
}

/**
 * The config one location's link is given: its upstream and its resources only, so the
 * link subscribes for, fetches and grants on its own resources and nothing of another location.
 */
export function locationView(cfg: Config, loc: SiteLocation): Config {
  return { ...cfg, upstream: loc.upstream, resources: loc.resources, locations: undefined };
}
