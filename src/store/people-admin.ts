import { maskCredential } from '../util/mask.js';
import { BadPeriodError, checkIfMatch, UnknownCardError, UnknownGroupError } from './admin-errors.js';
import { recordChange } from './change-audit.js';
import { CredentialConflictError, type CredentialState } from './credentials-repository.js';
import { staffImportSourceId } from './grants-repository.js';
import type { MembershipInput } from './groups-repository.js';
import { setMemberState, UnknownMemberError } from './member-admin.js';
import type { PersonRow, PersonState } from './people-repository.js';
import { personView, versionOf, type PersonView } from './person-view.js';
import type { Store, Tx } from './store.js';

export { CredentialConflictError, UnknownMemberError };

/*
 * The provisioning use cases on people and their cards: the API's PUT and DELETE, and the CLI's
 * people/cards commands, call these and nothing else. A PUT names the whole wanted state and is
 * idempotent: it compares first and writes only what differs, so a platform's retry of a PUT that
 * already landed writes nothing, audits nothing and leaves the ETag as it was. Every accepted
 * change is one transaction with its change_audit row; every refusal throws before any write.
 */

export interface ChangeContext {
  /** Who asks: "api:<token name>", "cli:user@host". */
  actor: string;
  now: number;
  /** The client's If-Match versions (already unquoted); undefined: unconditional. */
  ifMatch?: readonly string[];
}

export interface PersonInput {
  name: string | null;
  state: PersonState;
  validFrom: number | null;
  validTo: number | null;
  /** The person's standing access groups ('staff' memberships), replacing the ones they have. */
  groups: readonly MembershipInput[];
}

export interface CardInput {
  format: string;
  state: CredentialState;
  validFrom: number | null;
  validTo: number | null;
}

export interface Outcome {
  created: boolean;
  changed: boolean;
  person: PersonView;
  version: string;
}

function viewed(tx: Tx, id: number, created: boolean, changed: boolean): Outcome {
  const person = personView(tx, tx.people.byId(id)!);
  return { created, changed, person, version: versionOf(person) };
}

function existing(tx: Tx, email: string): PersonRow {
  const row = tx.people.byEmail(email);
  if (row === undefined) throw new UnknownMemberError();
  return row;
}

export function checkPeriod(from: number | null, to: number | null, field: string): void {
  if (from !== null && to !== null && to <= from) throw new BadPeriodError(field);
}

/** The stored version of the person, or undefined; for GET and If-Match. */
export function getPerson(store: Store, email: string): { person: PersonView; version: string } | undefined {
  return store.read((tx) => {
    const row = tx.people.byEmail(email);
    if (row === undefined) return undefined;
    const person = personView(tx, row);
    return { person, version: versionOf(person) };
  });
}

const groupKey = (g: { group: string; validFrom: number | null; validTo: number | null }) => `${g.group}\u0000${g.validFrom}\u0000${g.validTo}`;

/**
 * Refuses an input no stored state could hold (an end before its start, a group the
 * configuration lacks); returns it with one row per group, the last listed winning (as the card
 * list does). `at` prefixes the fields named in errors ("body", "line 7").
 */
export function checkedPerson(input: PersonInput, knownGroups: ReadonlySet<string>, at = 'body'): PersonInput {
  checkPeriod(input.validFrom, input.validTo, `${at}.validTo`);
  input.groups.forEach((g, i) => checkPeriod(g.validFrom, g.validTo, `${at}.groups.${i}.validTo`));
  const unknown = input.groups.find((g) => !knownGroups.has(g.group));
  if (unknown) throw new UnknownGroupError(unknown.group);
  return { ...input, groups: [...new Map(input.groups.map((g) => [g.group, g])).values()] };
}

/** Inside a caller's transaction, with a checkedPerson input: writes what differs and audits it. */
export function writePerson(tx: Tx, email: string, input: PersonInput, ctx: ChangeContext): { id: number; created: boolean; changed: boolean } {
  const before = tx.people.byEmail(email);
  const id = before?.id ?? tx.people.upsert(email, input.name, ctx.now);
  const row = before ?? tx.people.byId(id)!;
  const changed: string[] = [];
  if (row.name !== input.name) {
    tx.people.rename(id, input.name, ctx.now);
    changed.push('name');
  }
  if (setMemberState(tx, row, input.state, ctx.now)) changed.push('state');
  if (row.valid_from !== input.validFrom || row.valid_to !== input.validTo) {
    tx.people.setValidity(id, { from: input.validFrom, to: input.validTo }, ctx.now);
    changed.push('validity');
  }
  const stored = before === undefined ? [] : tx.groups.ofPerson(id).filter((m) => m.source === 'staff');
  const want = input.groups.map(groupKey).sort();
  const have = stored.map((m) => groupKey({ group: m.group_id, validFrom: m.valid_from, validTo: m.valid_to })).sort();
  if (want.join('\n') !== have.join('\n')) {
    // Per person with prepared statements, not the card list's JSON batch statements: dropStaffOf's
    // json_each IN list is planned as a scan of every staff row, and a bulk calls this per person.
    if (before !== undefined) tx.groups.dropStaff(id);
    tx.groups.replace(id, 'staff', staffImportSourceId(row.email), input.groups);
    changed.push('groups');
  }
  const created = before === undefined;
  if (created || changed.length > 0) recordChange(tx, { at: ctx.now, actor: ctx.actor, action: created ? 'person.create' : 'person.update', target: row.email, detail: { changed } });
  return { id, created, changed: created || changed.length > 0 };
}

/** Creates or updates a person to exactly `input` (cards untouched: they are their own resource). */
export function putPerson(store: Store, email: string, input: PersonInput, ctx: ChangeContext, knownGroups: ReadonlySet<string>): Outcome {
  const checked = checkedPerson(input, knownGroups);
  return store.transact((tx) => {
    const before = tx.people.byEmail(email);
    checkIfMatch(ctx.ifMatch, before && versionOf(personView(tx, before)), 'the person');
    const w = writePerson(tx, email, checked, ctx);
    return viewed(tx, w.id, w.created, w.changed);
  });
}

/** Deletes the person with their cards and memberships; false when there was none. */
export function deletePerson(store: Store, email: string, ctx: ChangeContext): boolean {
  return store.transact((tx) => {
    const row = tx.people.byEmail(email);
    checkIfMatch(ctx.ifMatch, row && versionOf(personView(tx, row)), 'the person');
    if (row === undefined) return false;
    tx.people.remove(row.id);
    recordChange(tx, { at: ctx.now, actor: ctx.actor, action: 'person.delete', target: row.email });
    return true;
  });
}

/**
 * Inside a caller's transaction: gives the person the card (canonical `number`) in exactly the
 * state asked. A card held by someone else is a CredentialConflictError (409), never a
 * transfer. Disabling or losing an active card voids the holder's member tokens
 * (credentials-repository.ts).
 */
export function writeCard(tx: Tx, person: { id: number; email: string }, number: string, input: CardInput, ctx: ChangeContext): { created: boolean; changed: boolean } {
  const card = tx.credentials.byNumber(number);
  if (card !== undefined && card.person_id !== person.id) throw new CredentialConflictError(number);
  const changed: string[] = [];
  if (card === undefined || card.format !== input.format || card.state !== input.state) {
    tx.credentials.assign(person.id, number, input.format, input.state, ctx.now);
    changed.push(card === undefined ? 'created' : 'state');
  }
  if ((card?.valid_from ?? null) !== input.validFrom || (card?.valid_to ?? null) !== input.validTo) {
    tx.credentials.setValidity(number, { from: input.validFrom, to: input.validTo }, ctx.now);
    changed.push('validity');
  }
  if (changed.length > 0) {
    recordChange(tx, { at: ctx.now, actor: ctx.actor, action: `card.${input.state}`, target: `${person.email} ${maskCredential(number)}`, detail: { changed } });
  }
  return { created: card === undefined, changed: changed.length > 0 };
}

export function putCard(store: Store, email: string, number: string, input: CardInput, ctx: ChangeContext): Outcome {
  checkPeriod(input.validFrom, input.validTo, 'body.validTo');
  return store.transact((tx) => {
    const person = existing(tx, email);
    checkIfMatch(ctx.ifMatch, versionOf(personView(tx, person)), 'the person');
    const w = writeCard(tx, person, number, input, ctx);
    return viewed(tx, person.id, w.created, w.changed);
  });
}

/** Takes the card away from the person (UnknownCardError when they do not hold it). */
export function deleteCard(store: Store, email: string, number: string, ctx: ChangeContext): Outcome {
  return store.transact((tx) => {
    const person = existing(tx, email);
    checkIfMatch(ctx.ifMatch, versionOf(personView(tx, person)), 'the person');
    const card = tx.credentials.byNumber(number);
    if (card === undefined || card.person_id !== person.id) throw new UnknownCardError();
    // Whoever had the card may hold a member token too: removing an active card voids them, as disabling does.
    if (card.state === 'active') tx.people.revokeTokens(person.id, ctx.now);
    tx.credentials.remove(number);
    recordChange(tx, { at: ctx.now, actor: ctx.actor, action: 'card.delete', target: `${person.email} ${maskCredential(number)}` });
    return viewed(tx, person.id, false, true);
  });
}
