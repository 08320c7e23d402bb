import { resourceDoors } from './access-model.js';
import { planLocations, type LocationPlan } from './reload-locations.js';
import type { Config, DoorConfig, ResourceConfig } from './schema.js';

/**
 * What a SIGHUP may do with a new, already validated config — decided here, without I/O, so
 * the rules are tested on their own. Every changed field is named by a dotted path and lands in
 * exactly one of two lists: applied live, or needing a restart. Nothing is silently ignored.
 *
 * Live: the resource → door mapping (SQLite plus a grant re-derivation, one transaction), the
 * platform token (`upstream.token`, `upstream.tokenFile`: the file is re-read on every reload,
 * which is how a token is rotated), and the doors: pulseMs, commandTtlMs, relay.channel, driver,
 * topic, name and alarms (the alarms part's limits) of a running door, and doors added or removed (the relay swaps its routing
 * table whole, the store its door rows), and `log.level` (the root logger and every child the
 * parts hold, the upstream thread's too). A door's `visitors` needs a restart (the visitor gate
 * holds it; a new door admits no visitors until then). Everything else needs a restart, because
 * the part that reads it was built with it at start and swapping it under a running badge path
 * is not worth the risk: readers (open devices), MQTT (its commands and the Home Assistant
 * discovery too: the events part subscribed and announced with them) and HTTP (open connections), the log
 * format, QR, visitors, grace defaults and brute-force limits (held by their
 * parts), dataDir and site (but its timeZone, below).
 *
 * The access model is live too: `schedules`, `holidays`, `zones`, `accessGroups`, `areas`,
 * `site.timeZone` and a door's `mode`, `unlockSchedule` and `firstPersonIn`. None of them can be
 * patched into the running index piece by piece (a zone's doors reach every member of every group
 * that names it), so a change of any sets `rebuildIndex`: the gateway compiles
 * accessModelOf(plan.config), builds a whole new index with it beside the running one, and swaps
 * it in when built. A resource whose own doors, accessGroups or grace changed, or whose groups now
 * reach other doors (a zone or group edited under it), is in `changedResources`.
 *
 * A location's connection, onDisconnect, name and token are live (reload-locations.ts): its
 * link stops or starts, and a revoke runs, at the reload; locations added or removed and other
 * `upstream` fields of a location need a restart.
 *
 * A reload is refused as a whole when a live change cannot be applied to what runs: a door
 * removed while a running reader still reads for it (readers change only on a restart).
 */

export interface ReloadPlan {
  /** Every changed field, sorted: `doors.front.pulseMs`, `resources.R-2` (added or removed). */
  changed: string[];
  live: string[];
  restart: string[];
  /** Why the reload cannot be applied; empty when it can. Path-labelled like config errors. */
  problems: string[];
  /** Resources whose doors (own, or through accessGroups), accessGroups or grace changed, added and removed ones too: their grants are re-derived. */
  changedResources: string[];
  /** Whether a door field that is live changed (or a door came or went): the relay and store take the new doors. */
  doorsChanged: boolean;
  /**
   * Whether the access model changed (MODEL_SECTIONS, site.timeZone, a door's MODEL_DOOR_FIELDS,
   * a door with a mode other than card added or removed): the gateway builds a new index from
   * accessModelOf(config) beside the running one and swaps it in whole.
   */
  rebuildIndex: boolean;
  /** Locations whose link stops or starts, and those whose grants are revoked, at this reload. */
  locations: Pick<LocationPlan, 'disconnect' | 'connect' | 'revoke'>;
  /** What runs after applying: the running config with only the live fields taken from the new one. */
  config: Config;
}

const LIVE_UPSTREAM = new Set(['upstream.token', 'upstream.tokenFile']);

/** Top-level sections of the access model (model-schema.ts), all applied by an index rebuild. */
export const MODEL_SECTIONS = ['schedules', 'holidays', 'zones', 'accessGroups', 'areas'] as const;
const MODEL_SITE_PATHS = new Set(['site.timeZone']);

const isUnder = (path: string, section: string) => path === section || path.startsWith(`${section}.`);
const isModelPath = (path: string) => MODEL_SITE_PATHS.has(path) || MODEL_SECTIONS.some((section) => isUnder(path, section));

export function planReload(running: Config, next: Config): ReloadPlan {
  const isDoorPath = (path: string) => isUnder(path, 'doors');
  const doors = planDoors(running, next);
  const locations = planLocations(running, next);
  const bothUpstream = running.upstream !== undefined && next.upstream !== undefined;
  const isLive = (path: string) =>
    isUnder(path, 'resources') || path === 'log.level' || isModelPath(path) || (bothUpstream && LIVE_UPSTREAM.has(path));
  // With `locations` on both sides, planLocations names their paths; otherwise `locations` is one path (restart).
  const byLocations = running.locations !== undefined && next.locations !== undefined;
  const others = diffPaths(running, next).filter((p) => !isDoorPath(p) && !(byLocations && isUnder(p, 'locations')));
  const live = [...others.filter(isLive), ...doors.live, ...locations.live].sort();
  const restart = [...others.filter((p) => !isLive(p)), ...doors.restart, ...locations.restart].sort();
  const changed = [...live, ...restart].sort();

  const config: Config = {
    ...running,
    site: { ...running.site, timeZone: next.site.timeZone },
    doors: doors.doors,
    resources: next.resources,
    schedules: next.schedules,
    holidays: next.holidays,
    zones: next.zones,
    accessGroups: next.accessGroups,
    areas: next.areas,
    log: { ...running.log, level: next.log.level },
    locations: locations.locations,
    upstream:
      running.upstream && next.upstream
        ? { ...running.upstream, token: next.upstream.token, tokenFile: next.upstream.tokenFile }
        : running.upstream,
  };
  const changedResources = resourcesChanged(running, next);
  const rebuildIndex = others.some(isModelPath) || doors.model.length > 0;
  const { disconnect, connect, revoke } = locations;
  return { changed, live, restart, problems: doors.problems, changedResources, doorsChanged: doors.relay.length > 0, rebuildIndex, locations: { disconnect, connect, revoke }, config };
}

/** Door fields a reload applies live in the relay and the store; every other door field needs a restart. */
const LIVE_DOOR_FIELDS = new Set(['name', 'driver', 'topic', 'pulseMs', 'commandTtlMs', 'relay']);
/** Door fields the alarms part applies live (parts/alarms-part.ts): nothing for the relay or the store to do. */
const ALARM_DOOR_FIELDS = new Set(['alarms']);
/** Door fields of the access model: live, by an index rebuild (they mean nothing to the relay). */
export const MODEL_DOOR_FIELDS = new Set(['mode', 'unlockSchedule', 'firstPersonIn']);

/** A door the model treats as more than a plain card door: adding or removing it changes the model. */
const hasModelPolicy = (d: DoorConfig) => (d.mode ?? 'card') !== 'card' || d.unlockSchedule !== undefined || d.firstPersonIn === true;

/**
 * Doors compared field by field (a door id may hold a "." so paths are built, not parsed):
 * the doors that run after the reload are the new file's, each with the `visitors` it runs
 * with now (false for a new door), since the visitor gate keeps its own until a restart.
 * `relay` and `model` sort the live paths by who applies them: the relay and store, or an
 * index rebuild (a door added or removed may be both).
 */
function planDoors(running: Config, next: Config): { live: string[]; restart: string[]; problems: string[]; relay: string[]; model: string[]; doors: DoorConfig[] } {
  const relay: string[] = [];
  const alarms: string[] = [];
  const model: string[] = [];
  const restart: string[] = [];
  const problems: string[] = [];
  const was = new Map(running.doors.map((d) => [d.id, d]));
  const now = new Set(next.doors.map((d) => d.id));
  for (const d of running.doors) {
    if (now.has(d.id)) continue;
    const readers = running.readers.filter((r) => r.door === d.id).map((r) => r.id);
    if (readers.length > 0) problems.push(`doors.${d.id}: removed, but running reader${readers.length > 1 ? 's' : ''} ${readers.map((r) => `"${r}"`).join(', ')} read${readers.length > 1 ? '' : 's'} for it (readers change on a restart)`);
    else {
      relay.push(`doors.${d.id}`);
      if (hasModelPolicy(d)) model.push(`doors.${d.id}`);
    }
  }
  const doors = next.doors.map((d) => {
    const old = was.get(d.id);
    if (!old) {
      relay.push(`doors.${d.id}`);
      if (hasModelPolicy(d)) model.push(`doors.${d.id}`);
      if (d.visitors) restart.push(`doors.${d.id}.visitors`);
      return { ...d, visitors: false };
    }
    for (const key of new Set([...Object.keys(old), ...Object.keys(d)])) {
      const path = `doors.${d.id}.${key}`;
      if (MODEL_DOOR_FIELDS.has(key)) model.push(...diffPaths(modelField(old, key), modelField(d, key), path));
      else if (ALARM_DOOR_FIELDS.has(key)) alarms.push(...diffPaths((old as Record<string, unknown>)[key], (d as Record<string, unknown>)[key], path));
      else (LIVE_DOOR_FIELDS.has(key) ? relay : restart).push(...diffPaths((old as Record<string, unknown>)[key], (d as Record<string, unknown>)[key], path));
    }
    return { ...d, visitors: old.visitors };
  });
  return { live: [...new Set([...relay, ...model, ...alarms])], restart, problems, relay, model, doors };
}

/** A model field with its default filled in, so writing out `mode: card` is no change. */
function modelField(d: DoorConfig, key: string): unknown {
  if (key === 'mode') return d.mode ?? 'card';
  if (key === 'firstPersonIn') return d.firstPersonIn ?? false;
  return (d as Record<string, unknown>)[key];
}

/**
 * Resources whose bookings open other doors or for other times than before: own doors,
 * accessGroups or grace changed, added or removed, or their groups' zones now reach another set
 * of doors. Their booking grants are re-derived.
 */
function resourcesChanged(running: Config, next: Config): string[] {
  const key = (cfg: Config, r: ResourceConfig | undefined) =>
    r
      ? JSON.stringify([[...r.doors].sort(), [...(r.accessGroups ?? [])].sort(), resourceDoors(cfg, r), r.graceBeforeMinutes ?? null, r.graceAfterMinutes ?? null])
      : '';
  const was = new Map(running.resources.map((r) => [r.id, r]));
  const now = new Map(next.resources.map((r) => [r.id, r]));
  return [...new Set([...was.keys(), ...now.keys()])].filter((id) => key(running, was.get(id)) !== key(next, now.get(id))).sort();
}

/**
 * The dotted paths where two configs differ. Lists of objects with an `id` (doors, readers,
 * resources) are compared by id, so reordering is no change and an added or removed item is one
 * path (`doors.side`); other lists are compared as a whole value.
 */
export function diffPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (Array.isArray(a) && Array.isArray(b) && isIdList([...a, ...b])) {
    const left = new Map((a as Array<{ id: string }>).map((x) => [x.id, x]));
    const right = new Map((b as Array<{ id: string }>).map((x) => [x.id, x]));
    const ids = [...new Set([...left.keys(), ...right.keys()])];
    return ids.flatMap((id) => diffPaths(left.get(id), right.get(id), join(prefix, id))).sort();
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => diffPaths(a[k], b[k], join(prefix, k))).sort();
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIdList(v: unknown[]): v is Array<{ id: string }> {
  return v.length > 0 && v.every((x) => isPlainObject(x) && typeof x.id === 'string');
}
