import type { GrantInput, GrantSource } from './grants-repository.js';
import type { Tx } from './store.js';

export type { GrantInput, GrantSource } from './grants-repository.js';

/**
 * Makes the grants of one source item (an appointment, a subscription, a visit, a staff import)
 * exactly `grants` (tx.grants.replaceSource; kept for the callers written before it).
 */
export function replaceSourceGrants(tx: Tx, source: GrantSource, sourceId: string, grants: readonly GrantInput[]): void {
  tx.grants.replaceSource(source, sourceId, grants);
}
