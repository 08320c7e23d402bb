import type { Db } from './db.js';
import { CredentialsRepository, type CredentialState } from './credentials-repository.js';
import { PeopleRepository, type PersonRow, type PersonState } from './people-repository.js';
import type { Tx } from './store.js';

/*
 * The person and credential use cases as free functions over a transaction, kept for the many
 * callers written before the repositories (tests, the demo): each is one call of
 * tx.people / tx.credentials, which own the SQL. New code calls the repositories.
 */

export { normalizeEmail, tokensValidAfterRevocation, type PersonRow, type PersonState, type Validity } from './people-repository.js';
export { CredentialConflictError, type CredentialRow, type CredentialState } from './credentials-repository.js';

/** Returns the person's id, creating them (without any card: "pending") if new. */
export function upsertPerson(tx: Tx, email: string, name: string | null, now: number): number {
  return tx.people.upsert(email, name, now);
}

export function setPersonState(tx: Tx, personId: number, state: PersonState, now: number): void {
  tx.people.setState(personId, state, now);
}

/** Voids every member QR token issued to the person up to `now`; later ones stay valid. */
export function revokePersonTokens(tx: Tx, personId: number, now: number): void {
  tx.people.revokeTokens(personId, now);
}

/** Assigns a card to a person; another person's card is a CredentialConflictError (see CredentialsRepository.assign). */
export function assignCredential(tx: Tx, personId: number, number: string, format: string, state: CredentialState, now: number): void {
  tx.credentials.assign(personId, number, format, state, now);
}

/** Sets a card's state; taking an active card away revokes member tokens. */
export function setCredentialState(tx: Tx, number: string, state: CredentialState, now: number): boolean {
  return tx.credentials.setState(number, state, now);
}

/*
 * Reads outside a transaction (the QR issuer, `lintel people show`). A repository over a bare
 * handle holds nothing but it, so one per connection serves every call.
 */
const readers = new WeakMap<Db, { people: PeopleRepository; credentials: CredentialsRepository }>();

function readersOf(db: Db): { people: PeopleRepository; credentials: CredentialsRepository } {
  let r = readers.get(db);
  if (!r) {
    const people = new PeopleRepository(db, undefined);
    readers.set(db, (r = { people, credentials: new CredentialsRepository(db, people) }));
  }
  return r;
}

export function findPersonByEmail(db: Db, email: string): PersonRow | undefined {
  return readersOf(db).people.byEmail(email);
}

/** How many cards the person holds, and how many of them are active (the member-token rule). */
export function countCredentials(db: Db, personId: number): { total: number; active: number } {
  return readersOf(db).credentials.count(personId);
}
