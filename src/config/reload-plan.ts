import type { Config, ResourceConfig } from './schema.js';

/**
 * What a SIGHUP may do with a new, already validated config — decided here, without I/O, so
 * the rules are tested on their own. Every changed field is named by a dotted path and lands in
 * exactly one of two lists: applied live, or needing a restart. Nothing is silently ignored.
 *
 * Live: the resource → door mapping (SQLite plus a grant re-derivation, one transaction) and the
 * platform token (`upstream.token`, `upstream.tokenFile`: the file is re-read on every reload,
 * which is how a token is rotated). Everything else needs a restart, because the part that reads
 * it was built with it at start and swapping it under a running badge path is not worth the
 * risk: doors (pulseMs, relay, commandTtlMs: the relay and the visitor gate hold them), readers
 * (open devices), MQTT and HTTP (open connections), the log level (child loggers copy it), QR,
 * visitors, grace defaults and brute-force limits (held by their parts), dataDir and site.
 *
 * A reload is refused as a whole when a live change cannot be applied to what runs: a resource
 * mapped to a door that is not running (a new door needs a restart first).
 */

export interface ReloadPlan {
  /** Every changed field, sorted: `doors.front.pulseMs`, `resources.R-2` (added or removed). */
  changed: string[];
  live: string[];
  restart: string[];
  /** Why the reload cannot be applied; empty when it can. Path-labelled like config errors. */
  problems: string[];
  /** Resources whose doors or grace changed (added and removed ones too): their grants are re-derived. */
  changedResources: string[];
  /** What runs after applying: the running config with only the live fields taken from the new one. */
  config: Config;
}

const LIVE_UPSTREAM = new Set(['upstream.token', 'upstream.tokenFile']);

export function planReload(running: Config, next: Config): ReloadPlan {
  const changed = diffPaths(running, next);
  const bothUpstream = running.upstream !== undefined && next.upstream !== undefined;
  const isLive = (path: string) => path === 'resources' || path.startsWith('resources.') || (bothUpstream && LIVE_UPSTREAM.has(path));
  const live = changed.filter(isLive);
  const restart = changed.filter((p) => !isLive(p));

  const runningDoors = new Set(running.doors.map((d) => d.id));
  const problems: string[] = [];
  for (const r of next.resources) {
    for (const door of r.doors) {
      if (!runningDoors.has(door)) problems.push(`resources.${r.id}.doors: door "${door}" is not running (new doors need a restart)`);
    }
  }

  const config: Config = {
    ...running,
    resources: next.resources,
    upstream:
      running.upstream && next.upstream
        ? { ...running.upstream, token: next.upstream.token, tokenFile: next.upstream.tokenFile }
        : running.upstream,
  };
  return { changed, live, restart, problems, changedResources: resourcesChanged(running.resources, next.resources), config };
}

function resourcesChanged(before: readonly ResourceConfig[], after: readonly ResourceConfig[]): string[] {
  const key = (r: ResourceConfig | undefined) =>
    r ? JSON.stringify([[...r.doors].sort(), r.graceBeforeMinutes ?? null, r.graceAfterMinutes ?? null]) : '';
  const was = new Map(before.map((r) => [r.id, r]));
  const now = new Map(after.map((r) => [r.id, r]));
  return [...new Set([...was.keys(), ...now.keys()])].filter((id) => key(was.get(id)) !== key(now.get(id))).sort();
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
