import type { z } from 'zod';
import { resourceDoors, type ResourceDoorsInput } from './access-model.js';

/*
 * The `locations` rules, checked with the rest of the config (schema.ts's superRefine), each
 * error labelled with its path like the others. What they protect: a resource whose booking
 * would open a door of another location (that location's platform account has no say there),
 * two links answering at one callback URL, and a config that leaves unclear which account
 * books a resource.
 */

/** What of the parsed config the checks read; structural, so schema.ts and this file do not import each other's types. */
export interface LocationRulesInput extends ResourceDoorsInput {
  doors: ReadonlyArray<{ id: string; location?: string | undefined }>;
  resources: ResourceDoorsInput['resources'] & ReadonlyArray<{ id: string; location?: string | undefined }>;
  upstream?: unknown;
  locations?: ReadonlyArray<{ id: string; upstream?: { callbackUrl: string; token?: string | undefined; tokenFile?: string | undefined } | undefined }> | undefined;
}

export function checkLocations(cfg: LocationRulesInput, ctx: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const locations = cfg.locations;
  if (locations === undefined) {
    cfg.doors.forEach((d, i) => {
      if (d.location !== undefined) issue(['doors', i, 'location'], `unknown location "${d.location}" (no locations are configured)`);
    });
    cfg.resources.forEach((r, i) => {
      if (r.location !== undefined) issue(['resources', i, 'location'], `unknown location "${r.location}" (no locations are configured)`);
    });
    return;
  }
  if (cfg.upstream !== undefined) issue(['upstream'], 'upstream and locations exclude each other: move upstream into locations[0].upstream');
  const ids = new Set<string>();
  const callbacks = new Map<string, string>();
  locations.forEach((l, i) => {
    if (ids.has(l.id)) issue(['locations', i, 'id'], `duplicate location id "${l.id}"`);
    ids.add(l.id);
    const up = l.upstream;
    if (up === undefined) return;
    if (!up.token && !up.tokenFile) issue(['locations', i, 'upstream', 'token'], 'give token or tokenFile');
    const other = callbacks.get(up.callbackUrl);
    if (other !== undefined) issue(['locations', i, 'upstream', 'callbackUrl'], `location "${other}" has the same callbackUrl; each location's platform calls back at its own path`);
    callbacks.set(up.callbackUrl, l.id);
  });
  const single = locations.length === 1 ? locations[0]!.id : null;
  const doorLocation = new Map<string, string>();
  cfg.doors.forEach((d, i) => {
    const at = d.location ?? single;
    // A door whose location is wrong is reported once, here, not again under every resource of it.
    if (d.location !== undefined && !ids.has(d.location)) return issue(['doors', i, 'location'], `unknown location "${d.location}"`);
    if (at === null) return issue(['doors', i, 'location'], 'with several locations every door names its location');
    doorLocation.set(d.id, at);
  });
  cfg.resources.forEach((r, i) => {
    const at = r.location ?? single;
    if (r.location !== undefined && !ids.has(r.location)) return issue(['resources', i, 'location'], `unknown location "${r.location}"`);
    if (at === null) return issue(['resources', i, 'location'], 'with several locations every resource names its location');
    for (const door of resourceDoors(cfg, r as ResourceDoorsInput['resources'][number])) {
      const doorAt = doorLocation.get(door);
      if (doorAt !== undefined && doorAt !== at) {
        const j = r.doors.indexOf(door);
        issue(j >= 0 ? ['resources', i, 'doors', j] : ['resources', i, 'accessGroups'], `door "${door}" is at location "${doorAt}", not at the resource's location "${at}"`);
      }
    }
  });
}
