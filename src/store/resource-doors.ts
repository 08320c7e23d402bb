import { prepareCached as cached } from './db.js';
import type { DbHolder } from './store.js';

/**
 * One resource's doors as stored by the last config sync (resource_doors), read on demand: a
 * daily list names one resource while the mapping may hold hundreds.
 */
export function doorsOfResource({ db }: DbHolder, resourceId: string): string[] {
  return cached(db, 'SELECT door_id FROM resource_doors WHERE resource_id = ? ORDER BY door_id').pluck().all(resourceId) as string[];
}
