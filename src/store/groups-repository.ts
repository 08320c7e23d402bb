import { prepareCached as cached, type Db } from './db.js';

/** Who owns a membership row. Not a closed list in SQL (migration 11): the API and later sources add theirs. */
export type MembershipSource = 'staff' | 'subscription' | 'api';

export interface MembershipInput {
  group: string;
  /** ms since epoch; null = open */
  validFrom: number | null;
  /** ms since epoch, exclusive; null = open */
  validTo: number | null;
}

export interface MembershipRow {
  group_id: string;
  valid_from: number | null;
  valid_to: number | null;
  source: MembershipSource;
  source_id: string;
}

/**
 * Access-group memberships (person_groups): the standing access of staff, subscribers and API
 * clients. The groups are the configuration's; a row naming a group the configuration no longer
 * has opens nothing. Each source replaces only its own rows, so the card list's 'staff'
 * memberships never erase what a subscription gave the same person.
 */
export class GroupsRepository {
  constructor(private readonly db: Db) {}

  /** Makes the person's memberships from (source, sourceId) exactly `groups` (one row per group: the last one listed wins). */
  replace(personId: number, source: MembershipSource, sourceId: string, groups: readonly MembershipInput[]): void {
    cached(this.db, 'DELETE FROM person_groups WHERE person_id = ? AND source = ? AND source_id = ?').run(personId, source, sourceId);
    const insert = cached(
      this.db,
      `INSERT INTO person_groups (person_id, group_id, valid_from, valid_to, source, source_id) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (person_id, group_id, source, source_id) DO UPDATE SET valid_from = excluded.valid_from, valid_to = excluded.valid_to`,
    );
    for (const g of groups) insert.run(personId, g.group, g.validFrom, g.validTo, source, sourceId);
  }

  /** Removes every membership of one source item (a cancelled subscription), whoever holds it; returns how many. */
  dropSource(source: MembershipSource, sourceId: string): number {
    return cached(this.db, 'DELETE FROM person_groups WHERE source = ? AND source_id = ?').run(source, sourceId).changes;
  }

  ofPerson(personId: number): MembershipRow[] {
    return cached(this.db, 'SELECT group_id, valid_from, valid_to, source, source_id FROM person_groups WHERE person_id = ? ORDER BY group_id, source, source_id').all(
      personId,
    ) as MembershipRow[];
  }

  /** Who is in the group now or later (the operator's "who opens this"). */
  members(groupId: string): number[] {
    return cached(this.db, 'SELECT DISTINCT person_id FROM person_groups WHERE group_id = ? ORDER BY person_id').pluck().all(groupId) as number[];
  }

  /** One person's 'staff' memberships, whichever import or API call gave them (by person: the UNIQUE index's first column). */
  dropStaff(personId: number): void {
    cached(this.db, "DELETE FROM person_groups WHERE person_id = ? AND source = 'staff'").run(personId);
  }

  // The card list's bulk path (card-import.ts): its 'groups' column replaces the people's 'staff' memberships.

  /** Removes every 'staff' membership of these people, whichever import or operator gave it. */
  dropStaffOf(personIds: readonly number[]): void {
    cached(this.db, "DELETE FROM person_groups WHERE source = 'staff' AND person_id IN (SELECT value FROM json_each(?))").run(JSON.stringify(personIds));
  }

  /** Adds staff memberships given as [person id, group, from, to, source id]; a repeated group of a person keeps the last. */
  insertStaff(rows: readonly [number, string, number | null, number | null, string][]): void {
    cached(
      this.db,
      `INSERT INTO person_groups (person_id, group_id, valid_from, valid_to, source, source_id)
       SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, 'staff', j.value->>4 FROM json_each(?) j WHERE true ORDER BY j.key
       ON CONFLICT (person_id, group_id, source, source_id) DO UPDATE SET valid_from = excluded.valid_from, valid_to = excluded.valid_to`,
    ).run(JSON.stringify(rows));
  }
}
