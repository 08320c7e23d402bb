import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialConflictError, type CredentialState } from '../../src/store/credentials-repository.js';
import type { Tx } from '../../src/store/store.js';
import { testStore } from '../helpers/store.js';
import { expectIndexMatchesRebuild } from '../support/index-matches-rebuild.js';

/*
 * No writer can leave the index behind: random histories of writes through the repositories,
 * raw SQL that names no repository at all (what a forgotten touchPerson used to be), nested
 * transactions, savepoints that fail and outer transactions that roll back, each followed by
 * the check that the index kept in step by the commit listener equals one rebuilt from SQLite.
 */

const T0 = Date.parse('2026-12-02T10:00:00Z');
const HOUR = 3_600_000;
const DOORS = ['front', 'lab', 'side'];
const EMAILS = ['ana@example.com', 'ben@example.com', 'cy@example.com', 'dee@example.com'];
const CARDS = ['1001', '1002', '1003', '1004', '1005'];

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

type Step =
  | { kind: 'person'; email: number; name: string | null }
  | { kind: 'card'; email: number; card: number; state: CredentialState }
  | { kind: 'card-state'; card: number; state: CredentialState }
  | { kind: 'card-validity'; card: number; from: number | null; hours: number }
  | { kind: 'card-remove'; card: number }
  | { kind: 'suspend'; email: number; suspended: boolean }
  | { kind: 'person-validity'; email: number; from: number | null; hours: number }
  | { kind: 'revoke'; email: number }
  | { kind: 'grants'; source: number; holders: { email: number; door: number; from: number | null; hours: number }[] }
  | { kind: 'groups'; email: number; groups: string[] }
  | { kind: 'remove'; email: number }
  | { kind: 'raw-card-state'; card: number; state: CredentialState }
  | { kind: 'raw-grant'; email: number; door: number }
  | { kind: 'lockdown'; on: boolean }
  | { kind: 'prune'; hours: number };

const index = (n: number) => fc.nat({ max: n - 1 });
const state = fc.constantFrom<CredentialState>('active', 'disabled', 'lost');
const offset = fc.option(fc.integer({ min: -48, max: 48 }), { nil: null });
const hours = fc.integer({ min: 1, max: 72 });

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('person' as const), email: index(EMAILS.length), name: fc.option(fc.constantFrom('Ana', 'Ben'), { nil: null }) }),
  fc.record({ kind: fc.constant('card' as const), email: index(EMAILS.length), card: index(CARDS.length), state }),
  fc.record({ kind: fc.constant('card-state' as const), card: index(CARDS.length), state }),
  fc.record({ kind: fc.constant('card-validity' as const), card: index(CARDS.length), from: offset, hours }),
  fc.record({ kind: fc.constant('card-remove' as const), card: index(CARDS.length) }),
  fc.record({ kind: fc.constant('suspend' as const), email: index(EMAILS.length), suspended: fc.boolean() }),
  fc.record({ kind: fc.constant('person-validity' as const), email: index(EMAILS.length), from: offset, hours }),
  fc.record({ kind: fc.constant('revoke' as const), email: index(EMAILS.length) }),
  fc.record({
    kind: fc.constant('grants' as const),
    source: index(3),
    holders: fc.array(fc.record({ email: index(EMAILS.length), door: index(DOORS.length), from: offset, hours }), { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('groups' as const), email: index(EMAILS.length), groups: fc.subarray(['staff', 'cleaners', 'security']) }),
  fc.record({ kind: fc.constant('remove' as const), email: index(EMAILS.length) }),
  fc.record({ kind: fc.constant('raw-card-state' as const), card: index(CARDS.length), state }),
  fc.record({ kind: fc.constant('raw-grant' as const), email: index(EMAILS.length), door: index(DOORS.length) }),
  fc.record({ kind: fc.constant('lockdown' as const), on: fc.boolean() }),
  fc.record({ kind: fc.constant('prune' as const), hours: fc.integer({ min: 0, max: 24 * 10 }) }),
);

/** How a step is committed: alone, nested in another transact, in a savepoint that then fails, or in a transaction that rolls back. */
const wrapping = fc.constantFrom('alone', 'nested', 'failed-savepoint', 'rolled-back');

const at = (h: number | null) => (h === null ? null : T0 + h * HOUR);
const until = (from: number | null, h: number) => (from === null ? null : T0 + (from + h) * HOUR);

/** Applies one step through the repositories (or, for raw-*, straight SQL no repository sees). */
function apply(tx: Tx, s: Step): void {
  const personId = (email: number) => tx.people.upsert(EMAILS[email]!, null, T0);
  switch (s.kind) {
    case 'person':
      return void tx.people.upsert(EMAILS[s.email]!, s.name, T0);
    case 'card':
      return tx.credentials.assign(personId(s.email), CARDS[s.card]!, 'decimal', s.state, T0);
    case 'card-state':
      return void tx.credentials.setState(CARDS[s.card]!, s.state, T0);
    case 'card-validity':
      return void tx.credentials.setValidity(CARDS[s.card]!, { from: at(s.from), to: until(s.from, s.hours) }, T0);
    case 'card-remove':
      return void tx.credentials.remove(CARDS[s.card]!);
    case 'suspend':
      return tx.people.setState(personId(s.email), s.suspended ? 'suspended' : 'active', T0);
    case 'person-validity':
      return tx.people.setValidity(personId(s.email), { from: at(s.from), to: until(s.from, s.hours) }, T0);
    case 'revoke':
      return tx.people.revokeTokens(personId(s.email), T0);
    case 'grants':
      return tx.grants.replaceSource(
        'booking',
        `b${s.source}`,
        s.holders.map((h) => ({ personId: personId(h.email), doorId: DOORS[h.door]!, validFrom: at(h.from), validTo: until(h.from, h.hours) })),
      );
    case 'groups':
      return tx.groups.replace(personId(s.email), 'staff', 'test', s.groups.map((group) => ({ group, validFrom: null, validTo: null })));
    case 'remove':
      return void tx.people.remove(personId(s.email));
    case 'raw-card-state':
      return void tx.db.prepare('UPDATE credentials SET state = ? WHERE number = ?').run(s.state, CARDS[s.card]!);
    case 'raw-grant':
      return void tx.db.prepare("INSERT INTO grants (person_id, door_id, source, source_id) VALUES (?, ?, 'staff', 'raw')").run(personId(s.email), DOORS[s.door]!);
    case 'lockdown':
      return void tx.site.setLockdown(s.on, T0, 'test');
    case 'prune':
      return void tx.grants.pruneEndedBefore(T0 + s.hours * HOUR);
  }
}

describe('the index after any history of writes equals the index rebuilt from SQLite', () => {
  it('through repositories, raw SQL, nested transactions, failed savepoints and rollbacks', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(step, wrapping), { minLength: 1, maxLength: 25 }), (history) => {
        const s = testStore(DOORS);
        try {
          for (const [st, how] of history) {
            try {
              s.store.transact((tx) => {
                if (how === 'alone') return apply(tx, st);
                if (how === 'nested') return s.store.transact((inner) => apply(inner, st));
                if (how === 'failed-savepoint') {
                  apply(tx, { kind: 'person', email: 0, name: 'kept' });
                  // The step itself may be refused (a card someone else holds) before failLater: either way the savepoint rolls back and the outer commits.
                  expect(() => tx.savepoint(() => (apply(tx, st), failLater()))).toThrow(/refused later|already belongs to another person/);
                  return;
                }
                apply(tx, st);
                failLater();
              });
            } catch (err) {
              // A conflicting card or a deliberate rollback: nothing of that transaction was committed.
              if (!(err instanceof CredentialConflictError) && (err as Error).message !== 'refused later') throw err;
            }
          }
          expectIndexMatchesRebuild(s.store, s.index, { alsoCards: CARDS });
        } finally {
          s.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

function failLater(): never {
  throw new Error('refused later');
}
