import { expect } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { loadIndex } from '../../src/store/index-loader.js';
import type { Store } from '../../src/store/store.js';

/*
 * The one check that the index a gateway keeps in step, commit by commit, is the index a
 * restart would build from SQLite. It compares the two through the index's public accessors
 * only (what decisions read), person by person: their record, state and tokens, each card and
 * whether it is held active or withdrawn and by whom, and what their windows say for every
 * door at instants around every bound stored in SQLite. A difference is reported by person,
 * card, door and instant, all at once, so a failing history says what drifted.
 */

export interface MatchOptions {
  /** A fresh index set up like the live one (its subject hasher, its access model); default a bare one. */
  newIndex?: () => AccessIndex;
  /** Card numbers no longer in SQLite that the live index must not know either (a history's deleted cards). */
  alsoCards?: Iterable<string>;
  /** Instants to check besides those around the stored bounds. */
  instants?: Iterable<number>;
}

/** What the two indexes say, in one comparable shape per person and per card. */
function describePerson(index: AccessIndex, id: number, doors: readonly string[], instants: readonly number[]): unknown {
  const record = index.personRecord(id);
  if (record < 0) return null;
  const windows: Record<string, number[]> = {};
  for (const door of doors) {
    const n = index.configuredDoor(door);
    windows[door] = n < 0 ? [] : instants.map((at) => index.matchWindows(record, n, at));
  }
  const validity = instants.map((at) => index.recordValidity(record, at));
  const privileges = instants.map((at) => [index.lockdownOverride(id, at), index.firstPersonIn(id, at)]);
  return {
    person: index.person(id),
    active: index.recordActive(record),
    withdrawn: index.recordCardsWithdrawn(record),
    tokensValidAfter: index.tokensValidAfter(id),
    windows,
    validity,
    privileges,
  };
}

function describeCard(index: AccessIndex, number: string, instants: readonly number[]): unknown {
  const active = index.activeCardRecord(number);
  const held = index.disabledCardRecord(number);
  return {
    active: active < 0 ? null : index.recordPersonId(active),
    withdrawn: held < 0 ? null : index.recordPersonId(held),
    lost: index.cardLost(number),
    validity: instants.map((at) => index.cardValidity(number, at)),
  };
}

/** Every stored bound, and a millisecond either side: where a window opens or closes. */
function instantsOf(store: Store, extra: Iterable<number>): number[] {
  const bounds = store.db
    .prepare(
      `SELECT valid_from FROM grants UNION SELECT valid_to FROM grants
       UNION SELECT valid_from FROM people UNION SELECT valid_to FROM people
       UNION SELECT valid_from FROM credentials UNION SELECT valid_to FROM credentials
       UNION SELECT valid_from FROM person_groups UNION SELECT valid_to FROM person_groups`,
    )
    .pluck()
    .all() as (number | null)[];
  const all = new Set<number>([0, ...extra]);
  for (const b of bounds) if (b !== null) for (const at of [b - 1, b, b + 1]) all.add(at);
  return [...all].sort((a, b) => a - b);
}

export function expectIndexMatchesRebuild(store: Store, live: AccessIndex, options: MatchOptions = {}): void {
  const fresh = options.newIndex?.() ?? new AccessIndex();
  loadIndex(store.db, fresh);
  const doors = store.db.prepare('SELECT id FROM doors ORDER BY id').pluck().all() as string[];
  const people = store.db.prepare('SELECT id FROM people ORDER BY id').pluck().all() as number[];
  const cards = new Set([...(store.db.prepare('SELECT number FROM credentials').pluck().all() as string[]), ...(options.alsoCards ?? [])]);
  const instants = instantsOf(store, options.instants ?? []);
  const differences: string[] = [];
  for (const id of people) {
    const got = describePerson(live, id, doors, instants);
    const want = describePerson(fresh, id, doors, instants);
    if (JSON.stringify(got) !== JSON.stringify(want)) differences.push(`person ${id}: live ${JSON.stringify(got)} rebuilt ${JSON.stringify(want)}`);
  }
  for (const number of cards) {
    const got = describeCard(live, number, instants);
    const want = describeCard(fresh, number, instants);
    if (JSON.stringify(got) !== JSON.stringify(want)) differences.push(`card ${number}: live ${JSON.stringify(got)} rebuilt ${JSON.stringify(want)}`);
  }
  // People and cards the live index holds that SQLite no longer has show up in the counts.
  expect({ differences, stats: live.stats() }).toEqual({ differences: [], stats: fresh.stats() });
}
