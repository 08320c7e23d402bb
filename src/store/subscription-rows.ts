import { prepareCached as cached } from './db.js';
import type { MembershipInput } from './groups-repository.js';
import type { DbHolder, Tx } from './store.js';

/*
 * The SQL shared by the company and subscription use cases (migration 14), and the one rule
 * both apply: what person_groups rows a subscription gives each person it covers. A company
 * subscription is written into person_groups for every member, so the index decides from
 * memberships alone; joining, leaving, editing and cancelling all rewrite those rows through
 * `grantSubscription` / `withdrawSubscription`, so they cannot disagree.
 */

/** A refused input, before anything is written. field names it as the caller passed it ("groups", "endsAt", "subject.email"). */
export class InvalidInputError extends Error {
  readonly code = 'invalid_input';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

export interface SubscriptionRow {
  id: string;
  person_id: number | null;
  company_id: string | null;
  /** JSON array of access-group ids, sorted and without repeats. */
  groups: string;
  starts_at: number;
  ends_at: number | null;
  cancelled_at: number | null;
  /** The location it is of (migration 16); null: none named. */
  location: string | null;
  created_at: number;
  updated_at: number;
}

export interface CompanyRow {
  id: string;
  name: string | null;
  created_at: number;
  updated_at: number;
}

export function subscriptionById(holder: DbHolder, id: string): SubscriptionRow | undefined {
  return cached(holder.db, 'SELECT * FROM subscriptions WHERE id = ?').get(id) as SubscriptionRow | undefined;
}

export function companyById(holder: DbHolder, id: string): CompanyRow | undefined {
  return cached(holder.db, 'SELECT * FROM companies WHERE id = ?').get(id) as CompanyRow | undefined;
}

export function companySubscriptions(holder: DbHolder, companyId: string): SubscriptionRow[] {
  return cached(holder.db, 'SELECT * FROM subscriptions WHERE company_id = ? ORDER BY id').all(companyId) as SubscriptionRow[];
}

/** Row ids of the company's members; local, never returned by a use case. */
export function companyMemberIds(holder: DbHolder, companyId: string): number[] {
  return cached(holder.db, 'SELECT person_id FROM company_members WHERE company_id = ? ORDER BY person_id').pluck().all(companyId) as number[];
}

/** The company the person is in, if any. */
export function companyOf(holder: DbHolder, personId: number): string | undefined {
  return cached(holder.db, 'SELECT company_id FROM company_members WHERE person_id = ?').pluck().get(personId) as string | undefined;
}

/** The instant access ends: the earlier of the scheduled end and the cancellation; null = open. */
export function accessEnd(row: Pick<SubscriptionRow, 'ends_at' | 'cancelled_at'>): number | null {
  if (row.ends_at === null) return row.cancelled_at;
  if (row.cancelled_at === null) return row.ends_at;
  return Math.min(row.ends_at, row.cancelled_at);
}

/** Whether the subscription still gives access at `now` or later (not ended, not cancelled before now). */
export function isLive(row: SubscriptionRow, now: number): boolean {
  const end = accessEnd(row);
  return end === null || end > now;
}

/**
 * The memberships a subscription gives: each group from the start until the access end. None
 * when the end is not after the start (cancelled before it began): an empty window opens
 * nothing, and a row for it would only be clutter for the operator to read.
 */
export function membershipsOf(row: SubscriptionRow): MembershipInput[] {
  const end = accessEnd(row);
  if (end !== null && end <= row.starts_at) return [];
  return (JSON.parse(row.groups) as string[]).map((group) => ({ group, validFrom: row.starts_at, validTo: end }));
}

/** The people a subscription covers now: its person, or every member of its company. */
export function coveredPeople(holder: DbHolder, row: SubscriptionRow): number[] {
  if (row.person_id !== null) return [row.person_id];
  return row.company_id === null ? [] : companyMemberIds(holder, row.company_id);
}

export function grantSubscription(tx: Tx, personId: number, row: SubscriptionRow): void {
  tx.groups.replace(personId, 'subscription', row.id, membershipsOf(row));
}

export function withdrawSubscription(tx: Tx, personId: number, subscriptionId: string): void {
  tx.groups.replace(personId, 'subscription', subscriptionId, []);
}

/** Rewrites the subscription's rows from scratch: whoever held them before (a changed subject) loses them. */
export function rematerialise(tx: Tx, row: SubscriptionRow): void {
  tx.groups.dropSource('subscription', row.id);
  for (const personId of coveredPeople(tx, row)) grantSubscription(tx, personId, row);
}

/** A natural id (company, subscription): non-empty, no surrounding spaces, bounded. */
export function checkNaturalId(field: string, id: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200 || id.trim() !== id) {
    throw new InvalidInputError(field, `${field} must be a non-empty string of at most 200 characters without surrounding spaces`);
  }
}

/** The store does not parse addresses (the API and CLI do, with zod): it only refuses what would make a nameless row. */
export function checkEmail(field: string, email: string): void {
  if (typeof email !== 'string' || email.trim().length === 0 || !email.includes('@') || email.length > 254) {
    throw new InvalidInputError(field, `${field} must be an email address`);
  }
}
