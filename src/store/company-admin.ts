import { recordChange } from './change-audit.js';
import { prepareCached as cached } from './db.js';
import { normalizeEmail } from './people-repository.js';
import type { DbHolder, Store, Tx } from './store.js';
import {
  checkEmail,
  checkNaturalId,
  companyById,
  companyOf,
  companySubscriptions,
  grantSubscription,
  isLive,
  withdrawSubscription,
  type CompanyRow,
} from './subscription-rows.js';

/*
 * Companies and their members (issue 12), the use cases the API and the CLI both call. A
 * company's subscriptions follow membership at once: joining writes the person's person_groups
 * rows for each live company subscription in the same transaction, leaving removes them.
 *
 * Each use case is one Store.transact and compares before it writes: a retried PUT that asks
 * for what is already there writes nothing (no updated_at, no change_audit row) and returns
 * changed: false. Companies are named by the platform's id and people by email, never row id.
 */

export class UnknownCompanyError extends Error {
  readonly code = 'unknown_company';
  constructor(readonly companyId: string) {
    super(`no company with id "${companyId}"`);
    this.name = 'UnknownCompanyError';
  }
}

export interface CompanyView {
  id: string;
  name: string | null;
  /** Member emails, sorted. */
  members: string[];
  createdAt: number;
  updatedAt: number;
}

export interface CompanyChange {
  changed: boolean;
  created: boolean;
  company: CompanyView;
}

export interface MembershipChange {
  changed: boolean;
  companyId: string;
  email: string;
  /** The person did not exist and was created (pending: no card yet). */
  personCreated: boolean;
  /** The company the person left to join this one, if any. */
  movedFrom: string | null;
}

function memberEmails(holder: DbHolder, companyId: string): string[] {
  return cached(holder.db, 'SELECT p.email FROM company_members m JOIN people p ON p.id = m.person_id WHERE m.company_id = ? ORDER BY p.email')
    .pluck()
    .all(companyId) as string[];
}

function view(holder: DbHolder, row: CompanyRow): CompanyView {
  return { id: row.id, name: row.name, members: memberEmails(holder, row.id), createdAt: row.created_at, updatedAt: row.updated_at };
}

function existingCompany(tx: Tx, companyId: string): CompanyRow {
  const row = companyById(tx, companyId);
  if (row === undefined) throw new UnknownCompanyError(companyId);
  return row;
}

/** Creates the company or renames it; an unchanged name writes nothing. */
export function putCompany(store: Store, id: string, input: { name: string | null }, actor: string, now: number): CompanyChange {
  checkNaturalId('companyId', id);
  // An absent name (a JavaScript caller, a body without it) is no name, not "undefined" that never equals the stored NULL.
  const name = input.name ?? null;
  return store.transact((tx) => {
    const before = companyById(tx, id);
    if (before !== undefined && before.name === name) return { changed: false, created: false, company: view(tx, before) };
    if (before === undefined) {
      cached(tx.db, 'INSERT INTO companies (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)').run(id, name, now, now);
    } else {
      cached(tx.db, 'UPDATE companies SET name = ?, updated_at = ? WHERE id = ?').run(name, now, id);
    }
    recordChange(tx, { at: now, actor, action: before === undefined ? 'company.create' : 'company.update', target: id, detail: { name } });
    return { changed: true, created: before === undefined, company: view(tx, companyById(tx, id)!) };
  });
}

export function getCompany(holder: DbHolder, id: string): CompanyView | undefined {
  const row = companyById(holder, id);
  return row === undefined ? undefined : view(holder, row);
}

/**
 * Deletes the company with its subscriptions. Its members stay as people (their cards, staff
 * groups and own subscriptions untouched) and lose only what the company's subscriptions gave.
 * An unknown company is changed: false, so a retried DELETE is not an error.
 */
export function deleteCompany(store: Store, id: string, actor: string, now: number): { changed: boolean } {
  return store.transact((tx) => {
    if (companyById(tx, id) === undefined) return { changed: false };
    const members = memberEmails(tx, id);
    const subscriptions = companySubscriptions(tx, id).map((s) => s.id);
    // person_groups.source_id is not a foreign key: the cascade below would leave these rows open.
    for (const sub of subscriptions) tx.groups.dropSource('subscription', sub);
    cached(tx.db, 'DELETE FROM companies WHERE id = ?').run(id);
    recordChange(tx, { at: now, actor, action: 'company.delete', target: id, detail: { members: members.length, subscriptions } });
    return { changed: true };
  });
}

/** Takes the person out of their company and what its subscriptions gave them. */
function leave(tx: Tx, personId: number, companyId: string): void {
  for (const sub of companySubscriptions(tx, companyId)) withdrawSubscription(tx, personId, sub.id);
  cached(tx.db, 'DELETE FROM company_members WHERE person_id = ?').run(personId);
}

/**
 * Makes the person (created pending, without a card, if unknown) a member of the company.
 * A member of another company moves: leaves it and joins this one in the same transaction.
 * Only live company subscriptions are written: an ended one would give a window in the past.
 */
export function joinCompany(store: Store, companyId: string, email: string, options: { name?: string | null }, actor: string, now: number): MembershipChange {
  checkNaturalId('companyId', companyId);
  checkEmail('email', email);
  const name = options.name ?? null;
  return store.transact((tx) => {
    existingCompany(tx, companyId);
    const known = tx.people.byEmail(email);
    const renamed = known !== undefined && name !== null && name !== known.name;
    const personId = known === undefined || renamed ? tx.people.upsert(email, name, now) : known.id;
    const from = companyOf(tx, personId) ?? null;
    const result = { companyId, email: normalizeEmail(email), personCreated: known === undefined, movedFrom: from === companyId ? null : from };
    if (from === companyId && !renamed) return { ...result, changed: false };
    if (from !== companyId) {
      if (from !== null) leave(tx, personId, from);
      cached(tx.db, 'INSERT INTO company_members (person_id, company_id, joined_at) VALUES (?, ?, ?)').run(personId, companyId, now);
      for (const sub of companySubscriptions(tx, companyId)) if (isLive(sub, now)) grantSubscription(tx, personId, sub);
    }
    recordChange(tx, {
      at: now,
      actor,
      action: from === companyId ? 'person.rename' : 'company.join',
      target: `${companyId}/${result.email}`,
      detail: { ...(result.movedFrom === null ? {} : { movedFrom: result.movedFrom }), ...(result.personCreated ? { personCreated: true } : {}), ...(renamed ? { name } : {}) },
    });
    return { ...result, changed: true };
  });
}

/** Takes the person out of the company at once. Not a member (or no such person): changed: false. */
export function leaveCompany(store: Store, companyId: string, email: string, actor: string, now: number): MembershipChange {
  return store.transact((tx) => {
    existingCompany(tx, companyId);
    const person = tx.people.byEmail(email);
    const result = { companyId, email: normalizeEmail(email), personCreated: false, movedFrom: null };
    if (person === undefined || companyOf(tx, person.id) !== companyId) return { ...result, changed: false };
    leave(tx, person.id, companyId);
    recordChange(tx, { at: now, actor, action: 'company.leave', target: `${companyId}/${result.email}` });
    return { ...result, changed: true };
  });
}
