import type { Store } from './store.js';

/** Grants and appointments that ended this long ago can no longer open anything or be moved back. */
export const RETAIN_ENDED_MS = 7 * 86_400_000;

/**
 * Drops grants and appointments that ended more than RETAIN_ENDED_MS ago, in one transaction,
 * so neither SQLite nor the in-memory index grows with every booking ever made. The audit log
 * keeps the history of what was decided.
 */
export function pruneEnded(store: Store, now: number): { grants: number; appointments: number } {
  const cutoff = now - RETAIN_ENDED_MS;
  return store.transact((tx) => {
    const grants = tx.db
      .prepare('DELETE FROM grants WHERE valid_to IS NOT NULL AND valid_to < ? RETURNING person_id')
      .all(cutoff) as { person_id: number }[];
    for (const g of grants) tx.touchPerson(g.person_id);
    const appointments = tx.db.prepare('DELETE FROM appointments WHERE end_at < ?').run(cutoff).changes;
    return { grants: grants.length, appointments };
  });
}
