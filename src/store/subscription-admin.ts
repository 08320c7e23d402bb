import { recordChange } from './change-audit.js';
import { UnknownGroupError } from './admin-errors.js';
import { UnknownCompanyError } from './company-admin.js';
import { prepareCached as cached } from './db.js';
import { decodeCursor, encodeCursor } from './page-cursor.js';
import { normalizeEmail } from './people-repository.js';
import type { DbHolder, Store, Tx } from './store.js';
import {
  checkEmail,
  checkNaturalId,
  companyById,
  coveredPeople,
  grantSubscription,
  InvalidInputError,
  rematerialise,
  subscriptionById,
  type SubscriptionRow,
} from './subscription-rows.js';

export { UnknownGroupError };

/*
 * Plan subscriptions (issue 12): a person or a whole company gets access groups from startsAt
 * until the earlier of endsAt and cancelledAt. Payment status is not modelled: it never
 * decides access. The subscription row is the truth; its person_groups rows (source
 * 'subscription', source_id = id) are rewritten from it whenever it changes, for the person or
 * every member of the company, so a changed subject moves them and an edit changes them.
 *
 * Each use case is one Store.transact; an identical retry writes nothing and says changed: false.
 */

export class UnknownSubscriptionError extends Error {
  readonly code = 'unknown_subscription';
  constructor(readonly subscriptionId: string) {
    super(`no subscription with id "${subscriptionId}"`);
    this.name = 'UnknownSubscriptionError';
  }
}

export type SubscriptionSubject = { email: string; name?: string | null } | { companyId: string };

export interface SubscriptionInput {
  subject: SubscriptionSubject;
  groups: readonly string[];
  /** ms since epoch */
  startsAt: number;
  /** ms, exclusive; null = open */
  endsAt: number | null;
  /** ms: access ends at this instant; null = not cancelled */
  cancelledAt: number | null;
  /** The location (config locations[].id) the plan is of; absent or null: none named. */
  location?: string | null;
}

export interface SubscriptionView {
  id: string;
  subject: { email: string } | { companyId: string };
  groups: string[];
  startsAt: number;
  endsAt: number | null;
  cancelledAt: number | null;
  /** Only when the subscription names one (config locations[].id). */
  location?: string;
  createdAt: number;
  updatedAt: number;
}

export interface SubscriptionChange {
  changed: boolean;
  created: boolean;
  subscription: SubscriptionView;
}

const isInstant = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Every refusal happens here, before the transaction: a refused PUT writes nothing. Returns the groups sorted, without repeats. */
function checkInput(id: string, input: SubscriptionInput, knownGroups: ReadonlySet<string>): string[] {
  checkNaturalId('subscriptionId', id);
  if ('companyId' in input.subject) checkNaturalId('subject.companyId', input.subject.companyId);
  else checkEmail('subject.email', input.subject.email);
  if (!Array.isArray(input.groups)) throw new InvalidInputError('groups', 'groups must be an array of access-group ids');
  for (const g of input.groups) if (!knownGroups.has(g)) throw new UnknownGroupError(g);
  if (!isInstant(input.startsAt)) throw new InvalidInputError('startsAt', 'startsAt must be an instant in ms');
  if (input.endsAt !== null && !isInstant(input.endsAt)) throw new InvalidInputError('endsAt', 'endsAt must be an instant in ms or null');
  if (input.endsAt !== null && input.endsAt <= input.startsAt) throw new InvalidInputError('endsAt', 'endsAt must be after startsAt');
  if (input.cancelledAt !== null && !isInstant(input.cancelledAt)) throw new InvalidInputError('cancelledAt', 'cancelledAt must be an instant in ms or null');
  return [...new Set(input.groups)].sort();
}

function view(holder: DbHolder, row: SubscriptionRow): SubscriptionView {
  const subject =
    row.person_id !== null ? { email: cached(holder.db, 'SELECT email FROM people WHERE id = ?').pluck().get(row.person_id) as string } : { companyId: row.company_id! };
  return {
    id: row.id,
    subject,
    groups: JSON.parse(row.groups) as string[],
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    cancelledAt: row.cancelled_at,
    ...(row.location === null || row.location === undefined ? {} : { location: row.location }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The subject's row ids: a person subject is created (pending, no card) or renamed as asked. */
function resolveSubject(tx: Tx, subject: SubscriptionSubject, now: number): { personId: number | null; companyId: string | null; personChanged: boolean } {
  if ('companyId' in subject) {
    if (companyById(tx, subject.companyId) === undefined) throw new UnknownCompanyError(subject.companyId);
    return { personId: null, companyId: subject.companyId, personChanged: false };
  }
  const name = subject.name ?? null;
  const known = tx.people.byEmail(subject.email);
  if (known !== undefined && (name === null || name === known.name)) return { personId: known.id, companyId: null, personChanged: false };
  return { personId: tx.people.upsert(subject.email, name, now), companyId: null, personChanged: true };
}

/**
 * Creates or replaces the subscription `id` and rewrites its memberships. knownGroups: the
 * configuration's access-group ids; a group outside it is refused (UnknownGroupError) before
 * anything is written, as is an unknown company (UnknownCompanyError, inside the transaction,
 * which then rolls back whatever it had begun).
 */
export function putSubscription(store: Store, id: string, input: SubscriptionInput, actor: string, now: number, knownGroups: ReadonlySet<string>): SubscriptionChange {
  const groups = checkInput(id, input, knownGroups);
  const groupsJson = JSON.stringify(groups);
  const location = input.location ?? null;
  return store.transact((tx) => {
    const subject = resolveSubject(tx, input.subject, now);
    const before = subscriptionById(tx, id);
    const same =
      before !== undefined &&
      before.person_id === subject.personId &&
      before.company_id === subject.companyId &&
      before.groups === groupsJson &&
      before.starts_at === input.startsAt &&
      before.ends_at === input.endsAt &&
      before.cancelled_at === input.cancelledAt &&
      (before.location ?? null) === location;
    if (same && !subject.personChanged) return { changed: false, created: false, subscription: view(tx, before) };
    if (!same) {
      cached(
        tx.db,
        `INSERT INTO subscriptions (id, person_id, company_id, groups, starts_at, ends_at, cancelled_at, location, created_at, updated_at)
         VALUES (@id, @person, @company, @groups, @starts, @ends, @cancelled, @location, @now, @now)
         ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, company_id = excluded.company_id, groups = excluded.groups,
           starts_at = excluded.starts_at, ends_at = excluded.ends_at, cancelled_at = excluded.cancelled_at, location = excluded.location, updated_at = excluded.updated_at`,
      ).run({ id, person: subject.personId, company: subject.companyId, groups: groupsJson, starts: input.startsAt, ends: input.endsAt, cancelled: input.cancelledAt, location, now });
      rematerialise(tx, subscriptionById(tx, id)!);
    }
    const after = subscriptionById(tx, id)!;
    const shown = view(tx, after);
    recordChange(tx, {
      at: now,
      actor,
      // Same subscription, only the subject person's name asked anew: say so, not "update".
      action: before === undefined ? 'subscription.create' : same ? 'person.rename' : 'subscription.update',
      target: id,
      detail: { subject: shown.subject, groups, startsAt: input.startsAt, endsAt: input.endsAt, cancelledAt: input.cancelledAt, ...(location === null ? {} : { location }) },
    });
    return { changed: true, created: before === undefined, subscription: shown };
  });
}

/**
 * Cancels at `at`: access ends at that instant, not before (a future `at` keeps access until
 * then). Cancelling again at the same instant is changed: false; at another instant moves it.
 */
export function cancelSubscription(store: Store, id: string, at: number, actor: string, now: number): SubscriptionChange {
  if (!isInstant(at)) throw new InvalidInputError('cancelledAt', 'cancelledAt must be an instant in ms');
  return store.transact((tx) => {
    const before = subscriptionById(tx, id);
    if (before === undefined) throw new UnknownSubscriptionError(id);
    if (before.cancelled_at === at) return { changed: false, created: false, subscription: view(tx, before) };
    cached(tx.db, 'UPDATE subscriptions SET cancelled_at = ?, updated_at = ? WHERE id = ?').run(at, now, id);
    const after = subscriptionById(tx, id)!;
    for (const personId of coveredPeople(tx, after)) grantSubscription(tx, personId, after);
    recordChange(tx, { at: now, actor, action: 'subscription.cancel', target: id, detail: { cancelledAt: at } });
    return { changed: true, created: false, subscription: view(tx, after) };
  });
}

/** Deletes the subscription and every membership it gave; an unknown id is changed: false (a retried DELETE). */
export function deleteSubscription(store: Store, id: string, actor: string, now: number): { changed: boolean } {
  return store.transact((tx) => {
    if (subscriptionById(tx, id) === undefined) return { changed: false };
    tx.groups.dropSource('subscription', id);
    cached(tx.db, 'DELETE FROM subscriptions WHERE id = ?').run(id);
    recordChange(tx, { at: now, actor, action: 'subscription.delete', target: id });
    return { changed: true };
  });
}

export function getSubscription(holder: DbHolder, id: string): SubscriptionView | undefined {
  const row = subscriptionById(holder, id);
  return row === undefined ? undefined : view(holder, row);
}

export interface SubscriptionPage {
  subscriptions: SubscriptionView[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export const MAX_PAGE = 1000;

/**
 * Subscriptions in id order, filtered by the subject: `email` gives the person's own
 * subscriptions (not their company's: filter by companyId for those). Both filters: both must hold.
 */
export function listSubscriptions(holder: DbHolder, query: { email?: string; companyId?: string; cursor?: string; limit: number }): SubscriptionPage {
  if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE) throw new InvalidInputError('limit', `limit must be an integer from 1 to ${MAX_PAGE}`);
  const after = query.cursor === undefined ? null : (decodeCursor(query.cursor) ?? null);
  if (query.cursor !== undefined && after === null) throw new InvalidInputError('cursor', 'not a cursor this API returned');
  // The WHERE clause is assembled from fixed fragments (at most 8 texts, each prepared once) so
  // that each filter uses its index instead of an "@x IS NULL OR ..." that SQLite cannot.
  const where = [
    ...(after === null ? [] : ['s.id > @after']),
    ...(query.email === undefined ? [] : ['s.person_id = (SELECT id FROM people WHERE email = @email)']),
    ...(query.companyId === undefined ? [] : ['s.company_id = @company']),
  ];
  const rows = cached(holder.db, `SELECT s.* FROM subscriptions s${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY s.id LIMIT @take`).all({
    ...(after === null ? {} : { after }),
    ...(query.email === undefined ? {} : { email: normalizeEmail(query.email) }),
    ...(query.companyId === undefined ? {} : { company: query.companyId }),
    take: query.limit + 1,
  }) as SubscriptionRow[];
  const page = rows.slice(0, query.limit);
  return { subscriptions: page.map((r) => view(holder, r)), nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!.id) : null };
}
