import type { Config, LocationConfig } from './schema.js';

/*
 * What a SIGHUP does with `locations` (README "Locations", issue 12): an operator disconnects or
 * connects a location with `systemctl reload`, so a location's `connection`, `onDisconnect`,
 * `name` and platform token (`upstream.token`, `upstream.tokenFile`, re-read at every reload as
 * the spec's "a new token is picked up by a config reload" asks) are live. A location added or
 * removed, a platform account added or removed, and every other `upstream` field (baseUrl,
 * callbackUrl, timeouts: what the link's thread and the webhook routes were built with) need a
 * restart. Pure, like reload-plan.ts, which calls it.
 */

export interface LocationPlan {
  live: string[];
  restart: string[];
  /** Locations connected before and disconnected now: their links stop before anything is written. */
  disconnect: string[];
  /** Locations disconnected before and connected now: their links start once the reload committed. */
  connect: string[];
  /**
   * Locations that are disconnected with `onDisconnect: revoke` now and were not before (just
   * disconnected, or switched from keep): the start's revoke runs in the reload's transaction.
   */
  revoke: string[];
  /** The running locations with only their live fields taken from the new file (none added or removed). */
  locations: Config['locations'];
}

const LIVE_FIELDS = new Set(['name', 'connection', 'onDisconnect']);
const LIVE_UPSTREAM_FIELDS = new Set(['token', 'tokenFile']);

const revokes = (l: LocationConfig) => l.connection === 'disconnected' && l.onDisconnect === 'revoke';

export function planLocations(running: Config, next: Config): LocationPlan {
  const plan: LocationPlan = { live: [], restart: [], disconnect: [], connect: [], revoke: [], locations: running.locations };
  const was = running.locations ?? [];
  const now = new Map((next.locations ?? []).map((l) => [l.id, l]));
  const ids = new Set(was.map((l) => l.id));
  // Either side without `locations` is the implicit location: top-level `upstream`, reload-plan.ts.
  if (was.length === 0 || now.size === 0) return plan;
  for (const id of now.keys()) if (!ids.has(id)) plan.restart.push(`locations.${id}`);
  plan.locations = was.map((old) => {
    const l = now.get(old.id);
    if (!l) {
      plan.restart.push(`locations.${old.id}`);
      return old;
    }
    // Ids may hold a "." (reload-plan.ts diffPaths): paths are built per field, never parsed.
    for (const key of new Set([...Object.keys(old), ...Object.keys(l)])) {
      const path = `locations.${old.id}.${key}`;
      const a = (old as Record<string, unknown>)[key];
      const b = (l as Record<string, unknown>)[key];
      if (JSON.stringify(a) === JSON.stringify(b)) continue;
      if (LIVE_FIELDS.has(key)) plan.live.push(path);
      else if (key === 'upstream' && old.upstream && l.upstream) planUpstream(plan, path, old.upstream, l.upstream);
      else plan.restart.push(path);
    }
    if (old.connection === 'connected' && l.connection === 'disconnected') plan.disconnect.push(old.id);
    if (old.connection === 'disconnected' && l.connection === 'connected') plan.connect.push(old.id);
    if (revokes(l) && !revokes(old)) plan.revoke.push(old.id);
    const upstream = old.upstream && l.upstream ? { ...old.upstream, token: l.upstream.token, tokenFile: l.upstream.tokenFile } : old.upstream;
    return { ...old, name: l.name, connection: l.connection, onDisconnect: l.onDisconnect, upstream };
  });
  plan.live.sort();
  plan.restart.sort();
  return plan;
}

function planUpstream(plan: LocationPlan, prefix: string, a: Record<string, unknown>, b: Record<string, unknown>): void {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) === JSON.stringify(b[key])) continue;
    (LIVE_UPSTREAM_FIELDS.has(key) ? plan.live : plan.restart).push(`${prefix}.${key}`);
  }
}
