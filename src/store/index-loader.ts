import type { AccessIndex, CardInput, GrantWindow, PersonInput } from '../access/access-index.js';
import type { Membership } from '../access/model.js';
import { prepareCached as cached, type Db } from './db.js';
import { usableSubject, type StoredSubject } from './subject-columns.js';

/*
 * Fills the pure access index from SQLite: everything at start, then only the people a
 * committed transaction touched (Store.onCommit). One code path for both, so the index
 * can never drift from what a restart would build.
 */

interface GrantSql {
  person_id: number;
  door_id: string;
  valid_from: number | null;
  valid_to: number | null;
}

interface PersonSql extends StoredSubject {
  id: number;
  email: string;
  state: string;
  tokens_valid_after: number;
  valid_from: number | null;
  valid_to: number | null;
}

type CardState = NonNullable<CardInput['state']>;

const PERSON_COLUMNS = 'id, email, state, tokens_valid_after, subject_hi, subject_lo, subject_key, valid_from, valid_to';
const CARD_COLUMNS = 'person_id, number, state, valid_from, valid_to';
const GRANT_COLUMNS = 'person_id, door_id, valid_from, valid_to';
const MEMBERSHIP_COLUMNS = 'person_id, group_id, valid_from, valid_to';

/** NULL (open) is absent in PersonInput and CardInput. */
const bound = (ms: number | null): number | undefined => (ms === null ? undefined : ms);

/** The email goes in so that the index can derive the subject when none is stored for its key. */
function personInput(p: PersonSql, keyId: number | undefined): Omit<PersonInput, 'grants' | 'cards' | 'memberships'> {
  return {
    id: p.id,
    email: p.email,
    subject: usableSubject(p.subject_hi, p.subject_lo, p.subject_key, keyId),
    active: p.state === 'active',
    tokensValidAfter: p.tokens_valid_after,
    validFrom: bound(p.valid_from),
    validTo: bound(p.valid_to),
  };
}

function toWindow(g: GrantSql): GrantWindow {
  return { door: g.door_id, from: g.valid_from ?? -Infinity, to: g.valid_to ?? Infinity };
}

/**
 * People loaded per page at start. Holding all 1,000,000 people as objects before putting them
 * (the first loader) left ~950 MB of garbage in the old generation: nothing collected it, and
 * every later scavenge took 4-10 ms instead of 1-2 (swipes queue behind those), with a
 * mark-compact of that heap still to come. A page of this size dies young.
 */
export const LOAD_BATCH = 5000;

type PersonRaw = [
  id: number,
  email: string,
  state: string,
  tokensValidAfter: number,
  hi: number | null,
  lo: number | null,
  key: number | null,
  validFrom: number | null,
  validTo: number | null,
];
type CardRaw = [personId: number, number: string, state: CardState, from: number | null, to: number | null];
type GrantRaw = [personId: number, door: string, from: number | null, to: number | null];
type MembershipRaw = [personId: number, group: string, from: number | null, to: number | null];

/** Mutable stand-ins the loader refills for every person: the index copies what it needs and keeps none (cards, windows and memberships alike). */
interface Scratch {
  person: PersonInput;
  windows: { door: string; from: number; to: number }[];
  cards: CardInput[];
  memberships: { group: string; from: number; to: number }[];
}

/**
 * Everything at start, a page of people (and their cards, grants and memberships, range
 * queries in person order) at a time, merged into one scratch PersonInput per person: rows
 * come back as arrays (`raw()`), no object is made per person, and the index's tables are
 * sized from the counts first. A subject stored with the index's key is taken as is (migration 8).
 */
export function loadIndex(db: Db, index: AccessIndex): void {
  index.clear();
  index.setDoors((cached(db, 'SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
  const [people, cards] = cached(db, "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM credentials WHERE state = 'active')")
    .raw()
    .get() as [number, number];
  index.reserve(people, cards);
  const keyId = index.subjectKeyId;
  const range = 'WHERE person_id > ? AND person_id <= ? ORDER BY person_id';
  const personStmt = cached(db, `SELECT ${PERSON_COLUMNS} FROM people WHERE id > ? ORDER BY id LIMIT ?`).raw();
  const cardStmt = cached(db, `SELECT ${CARD_COLUMNS} FROM credentials ${range}`).raw();
  const grantStmt = cached(db, `SELECT ${GRANT_COLUMNS} FROM grants ${range}`).raw();
  const memberStmt = cached(db, `SELECT ${MEMBERSHIP_COLUMNS} FROM person_groups ${range}`).raw();
  // A site without access groups (every site before them) pays no fourth query a page.
  const anyMemberships = cached(db, 'SELECT EXISTS (SELECT 1 FROM person_groups)').pluck().get() === 1;
  const scratch: Scratch = { person: { id: 0, active: false, tokensValidAfter: 0, grants: [], cards: [] }, windows: [], cards: [], memberships: [] };
  for (let after = -Infinity; ; ) {
    const rows = personStmt.all(after, LOAD_BATCH) as PersonRaw[];
    if (rows.length === 0) break;
    const last = rows[rows.length - 1]![0];
    const cardRows = cardStmt.all(after, last) as CardRaw[];
    const grantRows = grantStmt.all(after, last) as GrantRaw[];
    const memberRows = anyMemberships ? (memberStmt.all(after, last) as MembershipRaw[]) : NO_ROWS;
    let c = 0;
    let g = 0;
    let m = 0;
    for (const [id, email, state, tokensValidAfter, hi, lo, key, validFrom, validTo] of rows) {
      const p = scratch.person;
      let nc = 0;
      for (; c < cardRows.length && cardRows[c]![0] === id; c++, nc++) {
        const slot = (scratch.cards[nc] ??= { number: '', active: false });
        const row = cardRows[c]!;
        slot.number = row[1];
        slot.active = row[2] === 'active';
        slot.state = row[2];
        slot.validFrom = bound(row[3]);
        slot.validTo = bound(row[4]);
      }
      let ng = 0;
      for (; g < grantRows.length && grantRows[g]![0] === id; g++, ng++) {
        const slot = (scratch.windows[ng] ??= { door: '', from: 0, to: 0 });
        const row = grantRows[g]!;
        slot.door = row[1];
        slot.from = row[2] ?? -Infinity;
        slot.to = row[3] ?? Infinity;
      }
      let nm = 0;
      for (; m < memberRows.length && memberRows[m]![0] === id; m++, nm++) {
        const slot = (scratch.memberships[nm] ??= { group: '', from: 0, to: 0 });
        const row = memberRows[m]!;
        slot.group = row[1];
        slot.from = row[2] ?? -Infinity;
        slot.to = row[3] ?? Infinity;
      }
      p.cards = scratch.cards.slice(0, nc);
      p.grants = scratch.windows.slice(0, ng);
      p.memberships = nm === 0 ? NO_MEMBERSHIPS : scratch.memberships.slice(0, nm);
      p.id = id;
      p.email = email;
      p.subject = usableSubject(hi, lo, key, keyId);
      p.active = state === 'active';
      p.tokensValidAfter = tokensValidAfter;
      p.validFrom = bound(validFrom);
      p.validTo = bound(validTo);
      index.putPerson(p);
    }
    after = last;
  }
}

/** Shared by every person without a membership (most of them): the index only reads it. */
const NO_MEMBERSHIPS: Membership[] = [];
const NO_ROWS: MembershipRaw[] = [];

export function refreshPeople(db: Db, index: AccessIndex, ids: Iterable<number>): void {
  const personStmt = cached(db, `SELECT ${PERSON_COLUMNS} FROM people WHERE id = ?`);
  const cardStmt = cached(db, `SELECT ${CARD_COLUMNS} FROM credentials WHERE person_id = ?`).raw();
  const grantStmt = cached(db, `SELECT ${GRANT_COLUMNS} FROM grants WHERE person_id = ?`);
  const memberStmt = cached(db, `SELECT ${MEMBERSHIP_COLUMNS} FROM person_groups WHERE person_id = ?`).raw();
  for (const id of ids) {
    const p = personStmt.get(id) as PersonSql | undefined;
    if (!p) {
      index.removePerson(id);
      continue;
    }
    const cards = (cardStmt.all(id) as CardRaw[]).map(([, number, state, from, to]) => ({
      number,
      active: state === 'active',
      state,
      validFrom: bound(from),
      validTo: bound(to),
    }));
    const grants = (grantStmt.all(id) as GrantSql[]).map(toWindow);
    const memberships = (memberStmt.all(id) as MembershipRaw[]).map(([, group, from, to]) => ({ group, from: from ?? -Infinity, to: to ?? Infinity }));
    index.putPerson({ ...personInput(p, index.subjectKeyId), grants, cards, memberships });
  }
}

export function refreshDoors(db: Db, index: AccessIndex): void {
  index.setDoors((cached(db, 'SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
}
