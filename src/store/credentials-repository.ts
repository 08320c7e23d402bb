import { prepareCached as cached, type Db } from './db.js';
import type { PeopleRepository, Validity } from './people-repository.js';

export type CredentialState = 'active' | 'disabled' | 'lost';

export interface CredentialRow {
  id: number;
  person_id: number;
  number: string;
  format: string;
  state: CredentialState;
  valid_from: number | null;
  valid_to: number | null;
}

export class CredentialConflictError extends Error {
  constructor(readonly number: string) {
    super('card number already belongs to another person');
    this.name = 'CredentialConflictError';
  }
}

/**
 * The credentials table (canonical card numbers). Taking an active card away (disabled, lost)
 * also revokes the holder's member tokens: whoever has the card may have a token too. Only the
 * change does so: re-importing a card list with the same disabled row must not void tokens
 * issued since.
 */
export class CredentialsRepository {
  constructor(
    private readonly db: Db,
    private readonly people: PeopleRepository,
  ) {}

  /**
   * Assigns a canonical card number to a person. A card that already belongs to someone else is
   * a conflict, never a silent transfer: moving a badge between people is an explicit operator act.
   */
  assign(personId: number, number: string, format: string, state: CredentialState, now: number): void {
    const existing = this.stateOf(number);
    if (existing && existing.person_id !== personId) throw new CredentialConflictError(number);
    if (existing?.state === 'active' && state !== 'active') this.people.revokeTokens(personId, now);
    cached(
      this.db,
      `INSERT INTO credentials (person_id, number, format, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(number) DO UPDATE SET format = excluded.format, state = excluded.state, updated_at = excluded.updated_at`,
    ).run(personId, number, format, state, now, now);
  }

  /** Sets a card's state; false when no such card. */
  setState(number: string, state: CredentialState, now: number): boolean {
    const row = this.stateOf(number);
    if (row === undefined) return false;
    cached(this.db, 'UPDATE credentials SET state = ?, updated_at = ? WHERE number = ?').run(state, now, number);
    if (row.state === 'active' && state !== 'active') this.people.revokeTokens(row.person_id, now);
    return true;
  }

  /** The card's own validity (inside the holder's); false when no such card. */
  setValidity(number: string, validity: Validity, now: number): boolean {
    if (validity.from !== null && validity.to !== null && validity.to <= validity.from) throw new RangeError('valid_to must be after valid_from');
    return cached(this.db, 'UPDATE credentials SET valid_from = ?, valid_to = ?, updated_at = ? WHERE number = ?').run(validity.from, validity.to, now, number).changes > 0;
  }

  remove(number: string): boolean {
    return cached(this.db, 'DELETE FROM credentials WHERE number = ?').run(number).changes > 0;
  }

  byNumber(number: string): CredentialRow | undefined {
    return cached(this.db, 'SELECT id, person_id, number, format, state, valid_from, valid_to FROM credentials WHERE number = ?').get(number) as CredentialRow | undefined;
  }

  ofPerson(personId: number): CredentialRow[] {
    return cached(this.db, 'SELECT id, person_id, number, format, state, valid_from, valid_to FROM credentials WHERE person_id = ? ORDER BY id').all(personId) as CredentialRow[];
  }

  /** How many cards the person holds, and how many of them are active (the member-token rule). */
  count(personId: number): { total: number; active: number } {
    return cached(this.db, "SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE state = 'active') AS active FROM credentials WHERE person_id = ?").get(personId) as {
      total: number;
      active: number;
    };
  }

  // The card list's bulk path (card-import.ts).

  /** [position in `numbers`, state, holder's email] of the numbers already stored. */
  holdersOf(numbers: readonly string[]): [number, CredentialState, string][] {
    return cached(this.db, 'SELECT j.key, c.state, p.email FROM json_each(?) j JOIN credentials c ON c.number = j.value JOIN people p ON p.id = c.person_id')
      .raw()
      .all(JSON.stringify(numbers)) as [number, CredentialState, string][];
  }

  /** [position in `numbers`, state, holder's id] of the numbers already stored (the streamed import knows its people by id). */
  ownersOf(numbers: readonly string[]): [number, CredentialState, number][] {
    return cached(this.db, 'SELECT j.key, c.state, c.person_id FROM json_each(?) j JOIN credentials c ON c.number = j.value')
      .raw()
      .all(JSON.stringify(numbers)) as [number, CredentialState, number][];
  }

  /** Adds or updates cards given as [person id, number, format, state]. */
  upsertMany(rows: readonly [number, string, string, CredentialState][], now: number): void {
    cached(
      this.db,
      `INSERT INTO credentials (person_id, number, format, state, created_at, updated_at)
       SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, @now, @now FROM json_each(@rows) j WHERE true ORDER BY j.key
       ON CONFLICT(number) DO UPDATE SET format = excluded.format, state = excluded.state, updated_at = excluded.updated_at`,
    ).run({ now, rows: JSON.stringify(rows) });
  }

  private stateOf(number: string): { person_id: number; state: CredentialState } | undefined {
    return cached(this.db, 'SELECT person_id, state FROM credentials WHERE number = ?').get(number) as { person_id: number; state: CredentialState } | undefined;
  }
}
