import { maskCredential } from '../util/mask.js';
import type { DbHolder } from './store.js';
import { findPersonByEmail, normalizeEmail, type CredentialState, type PersonState } from './people.js';
import { GroupsRepository } from './groups-repository.js';
import { UnknownMemberError } from './member-admin.js';

/*
 * What `lintel people list|show` print (as text or --json). Read-only. Card numbers are masked
 * as everywhere else the gateway shows them: the CLI's output ends up in terminals' scrollback
 * and support tickets.
 */

export interface PersonSummary {
  email: string;
  name: string | null;
  state: PersonState;
  cards: number;
  activeCards: number;
  grants: number;
}

export interface PersonDetail extends PersonSummary {
  tokensValidAfter: string | null;
  credentials: Array<{ card: string; format: string; state: CredentialState }>;
  access: Array<{ door: string; source: string; validFrom: string | null; validTo: string | null }>;
  /** The person's own validity (migration 11); null = open. */
  validFrom: string | null;
  validTo: string | null;
  /** Access-group memberships, with the source that gave each. */
  groups: Array<{ group: string; source: string; validFrom: string | null; validTo: string | null }>;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function listPeople({ db }: DbHolder): PersonSummary[] {
  return db
    .prepare(
      `SELECT p.email, p.name, p.state,
         (SELECT COUNT(*) FROM credentials c WHERE c.person_id = p.id) AS cards,
         (SELECT COUNT(*) FROM credentials c WHERE c.person_id = p.id AND c.state = 'active') AS activeCards,
         (SELECT COUNT(*) FROM grants g WHERE g.person_id = p.id) AS grants
       FROM people p ORDER BY p.email`,
    )
    .all() as PersonSummary[];
}

export function showPerson({ db }: DbHolder, email: string): PersonDetail {
  const row = findPersonByEmail(db, normalizeEmail(email));
  if (!row) throw new UnknownMemberError();
  const credentials = (db.prepare('SELECT number, format, state FROM credentials WHERE person_id = ? ORDER BY id').all(row.id) as Array<{ number: string; format: string; state: CredentialState }>).map(
    (c) => ({ card: maskCredential(c.number), format: c.format, state: c.state }),
  );
  const access = (
    db.prepare('SELECT door_id, source, valid_from, valid_to FROM grants WHERE person_id = ? ORDER BY door_id, valid_from').all(row.id) as Array<{
      door_id: string;
      source: string;
      valid_from: number | null;
      valid_to: number | null;
    }>
  ).map((g) => ({ door: g.door_id, source: g.source, validFrom: iso(g.valid_from), validTo: iso(g.valid_to) }));
  const groups = new GroupsRepository(db)
    .ofPerson(row.id)
    .map((m) => ({ group: m.group_id, source: m.source, validFrom: iso(m.valid_from), validTo: iso(m.valid_to) }));
  return {
    email: row.email,
    name: row.name,
    state: row.state,
    cards: credentials.length,
    activeCards: credentials.filter((c) => c.state === 'active').length,
    grants: access.length,
    tokensValidAfter: row.tokens_valid_after > 0 ? iso(row.tokens_valid_after) : null,
    credentials,
    access,
    validFrom: iso(row.valid_from),
    validTo: iso(row.valid_to),
    groups,
  };
}

export function formatPeople(rows: readonly PersonSummary[]): string {
  if (rows.length === 0) return 'no people';
  return rows.map((p) => `${p.email}\t${p.state}\t${p.activeCards}/${p.cards} cards active\t${p.grants} grants${p.name ? `\t${p.name}` : ''}`).join('\n');
}

export function formatPerson(p: PersonDetail): string {
  const lines = [`${p.email}${p.name ? ` (${p.name})` : ''}: ${p.state}`];
  if (p.validFrom !== null || p.validTo !== null) lines.push(`  valid ${p.validFrom ?? 'from the start'} – ${p.validTo ?? 'open end'}`);
  if (p.tokensValidAfter) lines.push(`  member tokens issued before ${p.tokensValidAfter} are void`);
  for (const c of p.credentials) lines.push(`  card ${c.card} (${c.format}) ${c.state}`);
  for (const m of p.groups) lines.push(`  group ${m.group}: ${m.source}, ${m.validFrom ?? 'open start'} – ${m.validTo ?? 'open end'}`);
  for (const g of p.access) lines.push(`  door ${g.door}: ${g.source}, ${g.validFrom ?? 'open start'} – ${g.validTo ?? 'open end'}`);
  if (p.credentials.length === 0) lines.push('  no cards');
  return lines.join('\n');
}
