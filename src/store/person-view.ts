import { createHash } from 'node:crypto';
import type { CredentialState } from './credentials-repository.js';
import { prepareCached as cached } from './db.js';
import type { PersonRow, PersonState } from './people-repository.js';
import type { DbHolder } from './store.js';

/*
 * A person as the provisioning API and `lintel people show` give them out: named by email, with
 * their cards and access groups, and nothing local (no row id). Its version is a hash of exactly
 * this view, so an unchanged person keeps their ETag across retries and restarts, and any change
 * a client could see gives a new one.
 */

export interface CardView {
  /** The canonical number (the card's natural key in the API's paths). */
  number: string;
  format: string;
  state: CredentialState;
  validFrom: string | null;
  validTo: string | null;
}

export interface GroupView {
  group: string;
  validFrom: string | null;
  validTo: string | null;
}

export interface PersonView {
  email: string;
  name: string | null;
  state: PersonState;
  /** The company they are a member of (PUT /companies/{id}/members/{email}), or null. */
  company: string | null;
  /** No active card yet: access begins the moment one arrives. */
  pending: boolean;
  validFrom: string | null;
  validTo: string | null;
  /** Standing access ('staff' memberships: the API's and the card list's, one set). */
  groups: GroupView[];
  /** Access given by plan subscriptions: read here, written through /subscriptions. */
  subscriptionGroups: (GroupView & { subscription: string })[];
  cards: CardView[];
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function cardView(c: { number: string; format: string; state: CredentialState; valid_from: number | null; valid_to: number | null }): CardView {
  return { number: c.number, format: c.format, state: c.state, validFrom: iso(c.valid_from), validTo: iso(c.valid_to) };
}

export function personView(tx: DbHolder, row: PersonRow): PersonView {
  const cards = (
    cached(tx.db, 'SELECT number, format, state, valid_from, valid_to FROM credentials WHERE person_id = ? ORDER BY number').all(row.id) as Parameters<typeof cardView>[0][]
  ).map(cardView);
  const memberships = cached(tx.db, 'SELECT group_id, valid_from, valid_to, source, source_id FROM person_groups WHERE person_id = ? ORDER BY group_id, source_id').all(row.id) as {
    group_id: string;
    valid_from: number | null;
    valid_to: number | null;
    source: string;
    source_id: string;
  }[];
  const group = (m: (typeof memberships)[number]): GroupView => ({ group: m.group_id, validFrom: iso(m.valid_from), validTo: iso(m.valid_to) });
  return {
    email: row.email,
    name: row.name,
    state: row.state,
    company: (cached(tx.db, 'SELECT company_id FROM company_members WHERE person_id = ?').pluck().get(row.id) as string | undefined) ?? null,
    pending: !cards.some((c) => c.state === 'active'),
    validFrom: iso(row.valid_from),
    validTo: iso(row.valid_to),
    groups: memberships.filter((m) => m.source === 'staff').map(group),
    subscriptionGroups: memberships.filter((m) => m.source === 'subscription').map((m) => ({ ...group(m), subscription: m.source_id })),
    cards,
  };
}

/** The version of a representation: what the API sends as a strong ETag (quoted by the caller). */
export function versionOf(view: unknown): string {
  return createHash('sha256').update(JSON.stringify(view)).digest('base64url').slice(0, 27);
}
