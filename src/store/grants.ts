import { prepareCached as cached } from './db.js';
import type { Tx } from './store.js';

export type GrantSource = 'booking' | 'subscription' | 'visit' | 'staff';

export interface GrantInput {
  personId: number;
  doorId: string;
  /** ms since epoch; null = open */
  validFrom: number | null;
  /** ms since epoch, exclusive; null = open */
  validTo: number | null;
}

/**
 * Makes the grants of one source item (an appointment, a subscription, a visit, a staff import)
 * exactly `grants`. Everyone who had or now has a grant from it is refreshed in the index, so a
 * shrunk, moved or cancelled item revokes in the same commit.
 */
export function replaceSourceGrants(tx: Tx, source: GrantSource, sourceId: string, grants: readonly GrantInput[]): void {
  const deleteSource = cached(tx.db, 'DELETE FROM grants WHERE source = ? AND source_id = ? RETURNING person_id');
  const before = deleteSource.all(source, sourceId) as { person_id: number }[];
  for (const row of before) tx.touchPerson(row.person_id);
  const insert = cached(
    tx.db,
    'INSERT INTO grants (person_id, door_id, valid_from, valid_to, source, source_id) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (const g of grants) {
    insert.run(g.personId, g.doorId, g.validFrom, g.validTo, source, sourceId);
    tx.touchPerson(g.personId);
  }
}
