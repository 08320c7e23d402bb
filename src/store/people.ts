import { prepareCached as cached, type Db } from './db.js';
import type { Tx } from './store.js';

export type PersonState = 'active' | 'suspended';
export type CredentialState = 'active' | 'disabled' | 'lost';

export interface PersonRow {
  id: number;
  email: string;
  name: string | null;
  state: PersonState;
  tokens_valid_after: number;
}

export interface CredentialRow {
  id: number;
  person_id: number;
  number: string;
  format: string;
  state: CredentialState;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Returns the person's id, creating them (without any card: "pending") if new. Reads first:
 * a booking sync names the same people over and over, and an unchanged row is not rewritten.
 */
export function upsertPerson(tx: Tx, email: string, name: string | null, now: number): number {
  const normalized = normalizeEmail(email);
  const found = cached(tx.db, 'SELECT id, name FROM people WHERE email = ?').get(normalized) as
    | { id: number; name: string | null }
    | undefined;
  if (found) {
    if (name !== null && name !== found.name) {
      cached(tx.db, 'UPDATE people SET name = ?, updated_at = ? WHERE id = ?').run(name, now, found.id);
    }
    return found.id;
  }
  const subject = tx.subjects?.of(normalized);
  const row = cached(
    tx.db,
    'INSERT INTO people (email, name, created_at, updated_at, subject_hi, subject_lo, subject_key) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
  ).get(normalized, name, now, now, subject?.hi ?? null, subject?.lo ?? null, subject === undefined ? null : tx.subjects!.keyId) as { id: number };
  return row.id;
}

export function findPersonByEmail(db: Db, email: string): PersonRow | undefined {
  return cached(db, 'SELECT * FROM people WHERE email = ?').get(normalizeEmail(email)) as PersonRow | undefined;
}

export function setPersonState(tx: Tx, personId: number, state: PersonState, now: number): void {
  cached(tx.db, 'UPDATE people SET state = ?, updated_at = ? WHERE id = ?').run(state, now, personId);
  tx.touchPerson(personId);
}

/**
 * The tokens_valid_after a revocation at `now` sets: the next whole second after it. Token
 * times are whole seconds (issuedAt rounded down), so every token issued up to `now` has an
 * issuedAt below it, and the issuer dates a token issued later in that same second at this
 * instant (src/qr/issuer.ts): it works.
 */
export function tokensValidAfterRevocation(now: number): number {
  return Math.floor(now / 1000) * 1000 + 1000;
}

/** Voids every member QR token issued to the person up to `now`; later ones stay valid. */
export function revokePersonTokens(tx: Tx, personId: number, now: number): void {
  cached(tx.db, 'UPDATE people SET tokens_valid_after = MAX(tokens_valid_after, ?), updated_at = ? WHERE id = ?').run(
    tokensValidAfterRevocation(now),
    now,
    personId,
  );
  tx.touchPerson(personId);
}

export class CredentialConflictError extends Error {
  constructor(readonly number: string) {
    super('card number already belongs to another person');
    this.name = 'CredentialConflictError';
  }
}

/**
 * Assigns a canonical card number to a person. A card that already belongs to someone else is a
 * conflict, never a silent transfer: moving a badge between people is an explicit operator act.
 * Taking an active card away (disabled, lost) also revokes the person's member tokens: whoever
 * has the card may have a token too. Only the change does so: re-importing a card list with
 * the same disabled row must not void tokens issued since.
 */
export function assignCredential(
  tx: Tx,
  personId: number,
  number: string,
  format: string,
  state: CredentialState,
  now: number,
): void {
  const existing = cached(tx.db, 'SELECT person_id, state FROM credentials WHERE number = ?').get(number) as
    | { person_id: number; state: CredentialState }
    | undefined;
  if (existing && existing.person_id !== personId) throw new CredentialConflictError(number);
  if (existing?.state === 'active' && state !== 'active') revokePersonTokens(tx, personId, now);
  cached(
    tx.db,
    `INSERT INTO credentials (person_id, number, format, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(number) DO UPDATE SET format = excluded.format, state = excluded.state, updated_at = excluded.updated_at`,
  ).run(personId, number, format, state, now, now);
  tx.touchPerson(personId);
}

/** Sets a card's state; taking an active card away revokes member tokens (see assignCredential). */
export function setCredentialState(tx: Tx, number: string, state: CredentialState, now: number): boolean {
  const row = cached(tx.db, 'SELECT person_id, state FROM credentials WHERE number = ?').get(number) as
    | { person_id: number; state: CredentialState }
    | undefined;
  if (row === undefined) return false;
  cached(tx.db, 'UPDATE credentials SET state = ?, updated_at = ? WHERE number = ?').run(state, now, number);
  if (row.state === 'active' && state !== 'active') revokePersonTokens(tx, row.person_id, now);
  tx.touchPerson(row.person_id);
  return true;
}

/** How many cards the person holds, and how many of them are active (the member-token rule). */
export function countCredentials(db: Db, personId: number): { total: number; active: number } {
  return cached(db, "SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE state = 'active') AS active FROM credentials WHERE person_id = ?").get(
    personId,
  ) as { total: number; active: number };
}
