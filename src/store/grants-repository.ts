import { prepareCached as cached, type Db } from './db.js';

export type GrantSource = 'booking' | 'subscription' | 'visit' | 'staff';

export interface GrantInput {
  personId: number;
  doorId: string;
  /** ms since epoch; null = open */
  validFrom: number | null;
  /** ms since epoch, exclusive; null = open */
  validTo: number | null;
}

/** The source id of the staff grants (and memberships) a card list gave one person. */
export const staffImportSourceId = (email: string): string => `import:${email}`;

/** Door grants, each owned by one source item (an appointment, a subscription, a visit, a staff import). */
export class GrantsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Makes the grants of one source item exactly `grants`. The change_log triggers log everyone
   * who had or now has a grant from it, so a shrunk, moved or cancelled item revokes in the
   * same commit.
   */
  replaceSource(source: GrantSource, sourceId: string, grants: readonly GrantInput[]): void {
    cached(this.db, 'DELETE FROM grants WHERE source = ? AND source_id = ?').run(source, sourceId);
    const insert = cached(this.db, 'INSERT INTO grants (person_id, door_id, valid_from, valid_to, source, source_id) VALUES (?, ?, ?, ?, ?, ?)');
    for (const g of grants) insert.run(g.personId, g.doorId, g.validFrom, g.validTo, source, sourceId);
  }

  /** Drops grants that ended before `cutoff`; returns how many. */
  pruneEndedBefore(cutoff: number): number {
    return cached(this.db, 'DELETE FROM grants WHERE valid_to IS NOT NULL AND valid_to < ?').run(cutoff).changes;
  }

  ofPerson(personId: number): { door_id: string; source: GrantSource; source_id: string; valid_from: number | null; valid_to: number | null }[] {
    return cached(this.db, 'SELECT door_id, source, source_id, valid_from, valid_to FROM grants WHERE person_id = ? ORDER BY door_id, valid_from').all(personId) as {
      door_id: string;
      source: GrantSource;
      source_id: string;
      valid_from: number | null;
      valid_to: number | null;
    }[];
  }

  // The card list's bulk path (card-import.ts).

  /** Removes the staff grants earlier imports gave these people. */
  dropStaffImports(emails: readonly string[]): void {
    cached(this.db, "DELETE FROM grants WHERE source = 'staff' AND source_id IN (SELECT 'import:' || value FROM json_each(?))").run(JSON.stringify(emails));
  }

  /** Adds staff grants given as [person id, door, from, to, email]. */
  insertStaffImports(rows: readonly [number, string, number | null, number | null, string][]): void {
    cached(
      this.db,
      `INSERT INTO grants (person_id, door_id, valid_from, valid_to, source, source_id)
       SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, 'staff', 'import:' || (j.value->>4) FROM json_each(?) j ORDER BY j.key`,
    ).run(JSON.stringify(rows));
  }
}
