import { siteLocations } from '../config/locations.js';
import type { Config } from '../config/schema.js';
import { rederiveFromConfig } from '../upstream/booking-apply.js';
import { syncFromConfig } from './doors.js';
import { revokeLocation, type RevokeCounts } from './location-revoke.js';
import type { Store } from './store.js';

/** What a reload writes (gateway-reload.ts): the new config's doors and mapping, and the locations it revokes. */
export interface ReloadMappingJob {
  config: Config;
  /** Resources whose doors changed: their booking grants are re-derived. */
  changedResources: readonly string[];
  /** Locations disconnected by this reload with `onDisconnect: revoke` (store/location-revoke.ts). */
  revoke: readonly string[];
  now: number;
}

export type RevokedLocation = { location: string; counts: RevokeCounts };

/**
 * One transaction: the running doors mapped to the new resources, the booking grants of the
 * changed resources re-derived, and the revoke of each location just disconnected with
 * `onDisconnect: revoke` (the code the start runs). The helpers' own transactions nest as
 * savepoints, so a SQLITE_BUSY (or any failure) anywhere rolls all back.
 */
export function applyReloadMapping(store: Store, job: ReloadMappingJob): RevokedLocation[] {
  const cfg = job.config;
  const locations = siteLocations(cfg);
  return store.transact(() => {
    syncFromConfig(store, cfg);
    rederiveFromConfig(store, cfg, job.changedResources, job.now);
    return job.revoke.map((location) => {
      const resources = (locations.find((l) => l.id === location)?.resources ?? []).map((r) => r.id);
      return { location, counts: revokeLocation(store, { location, resources }, job.now) };
    });
  });
}
