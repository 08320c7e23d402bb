import type { PersonRow, PersonState } from './people-repository.js';
import type { Store, Tx } from './store.js';

/*
 * The operator's use cases on a person: suspend, reinstate, revoke member tokens. The CLI calls
 * them today and the provisioning API will call the same functions, so the rules live here and
 * not in either front end. Each is one transaction through Store.transact (the running gateway,
 * whether it is this process or another, picks the commit up like any other change).
 *
 * People are named by email, never by row id: the id is local to this gateway's database.
 */

export class UnknownMemberError extends Error {
  readonly code = 'unknown_person';
  constructor() {
    super('no person with that email');
    this.name = 'UnknownMemberError';
  }
}

export interface MemberChange {
  email: string;
  state: PersonState;
  /** False when the person was already in the asked-for state (nothing was written). */
  changed: boolean;
  /** ms: member tokens issued before this instant are void. */
  tokensValidAfter: number;
}

function summary(row: PersonRow, changed: boolean): MemberChange {
  return { email: row.email, state: row.state, changed, tokensValidAfter: row.tokens_valid_after };
}

/**
 * One use case's transaction: the person by email (UnknownMemberError if none), `change`
 * writes what it must and says whether it wrote anything, and the row is read back as it now is.
 */
function changeMember(store: Store, email: string, change: (tx: Tx, row: PersonRow) => boolean): MemberChange {
  return store.transact((tx) => {
    const row = tx.people.byEmail(email);
    if (row === undefined) throw new UnknownMemberError();
    if (!change(tx, row)) return summary(row, false);
    return summary(tx.people.byId(row.id)!, true);
  });
}

/**
 * Suspends a person: their cards and member tokens are refused, and no token is issued. The
 * tokens issued so far are revoked too, so that reinstating does not bring back a token that
 * was handed out (or screenshotted) before the suspension.
 */
export function suspendMember(store: Store, email: string, now: number): MemberChange {
  return changeMember(store, email, (tx, row) => setMemberState(tx, row, 'suspended', now));
}

/** Lets a suspended person's cards in again; tokens must be issued anew. */
export function reinstateMember(store: Store, email: string, now: number): MemberChange {
  return changeMember(store, email, (tx, row) => setMemberState(tx, row, 'active', now));
}

/**
 * The suspension rule inside a caller's transaction (the CLI's commands above, the API's PUT of
 * a person): suspending also voids the tokens issued so far. False when already in that state.
 */
export function setMemberState(tx: Tx, row: PersonRow, state: PersonState, now: number): boolean {
  if (row.state === state) return false;
  tx.people.setState(row.id, state, now);
  if (state === 'suspended') tx.people.revokeTokens(row.id, now);
  return true;
}

/** Voids every member token issued to the person until now; tokens issued afterwards work. */
export function revokeMemberTokens(store: Store, email: string, now: number): MemberChange {
  return changeMember(store, email, (tx, row) => {
    tx.people.revokeTokens(row.id, now);
    return true;
  });
}
