import type { AccessIndex, GrantWindow, PersonInput } from '../access/access-index.js';
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
}

const PERSON_COLUMNS = 'id, email, state, tokens_valid_after, subject_hi, subject_lo, subject_key';

/** The email goes in so that the index can derive the subject when none is stored for its key. */
function personInput(p: PersonSql, keyId: number | undefined): Pick<PersonInput, 'id' | 'email' | 'subject' | 'active' | 'tokensValidAfter'> {
  return { id: p.id, email: p.email, subject: usableSubject(p.subject_hi, p.subject_lo, p.subject_key, keyId), active: p.state === 'active', tokensValidAfter: p.tokens_valid_after };
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

type PersonRaw = [id: number, email: string, state: string, tokensValidAfter: number, hi: number | null, lo: number | null, key: number | null];
type CardRaw = [personId: number, number: string, state: string];
type GrantRaw = [personId: number, door: string, from: number | null, to: number | null];

/** Mutable stand-ins the loader refills for every person: the index copies what it needs and keeps none. */
interface Scratch {
  person: PersonInput;
  windows: { door: string; from: number; to: number }[];
  cards: { number: string; active: boolean }[];
}

/**
 * Everything at start, a page of people (and their cards and grants, three range queries in
 * person order) at a time, merged into one scratch PersonInput per person: rows come back as
 * arrays (`raw()`), no object is made per person, and the index's tables are sized from the
 * counts first. A subject stored with the index's key is taken as is (migration 8).
 */
export function loadIndex(db: Db, index: AccessIndex): void {
  index.clear();
  index.setDoors((cached(db, 'SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
  const [people, cards] = cached(db, "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM credentials WHERE state = 'active')")
    .raw()
    .get() as [number, number];
  index.reserve(people, cards);
  const keyId = index.subjectKeyId;
  const personStmt = cached(db, `SELECT ${PERSON_COLUMNS} FROM people WHERE id > ? ORDER BY id LIMIT ?`).raw();
  const cardStmt = cached(db, 'SELECT person_id, number, state FROM credentials WHERE person_id > ? AND person_id <= ? ORDER BY person_id').raw();
  const grantStmt = cached(db, 'SELECT person_id, door_id, valid_from, valid_to FROM grants WHERE person_id > ? AND person_id <= ? ORDER BY person_id').raw();
  const scratch: Scratch = { person: { id: 0, active: false, tokensValidAfter: 0, grants: [], cards: [] }, windows: [], cards: [] };
  for (let after = -Infinity; ; ) {
    const rows = personStmt.all(after, LOAD_BATCH) as PersonRaw[];
    if (rows.length === 0) break;
    const last = rows[rows.length - 1]![0];
    const cardRows = cardStmt.all(after, last) as CardRaw[];
    const grantRows = grantStmt.all(after, last) as GrantRaw[];
    let c = 0;
    let g = 0;
    for (const [id, email, state, tokensValidAfter, hi, lo, key] of rows) {
      const p = scratch.person;
      let nc = 0;
      for (; c < cardRows.length && cardRows[c]![0] === id; c++, nc++) {
        const slot = (scratch.cards[nc] ??= { number: '', active: false });
        slot.number = cardRows[c]![1];
        slot.active = cardRows[c]![2] === 'active';
      }
      let ng = 0;
      for (; g < grantRows.length && grantRows[g]![0] === id; g++, ng++) {
        const slot = (scratch.windows[ng] ??= { door: '', from: 0, to: 0 });
        const row = grantRows[g]!;
        slot.door = row[1];
        slot.from = row[2] ?? -Infinity;
        slot.to = row[3] ?? Infinity;
      }
      p.cards = scratch.cards.slice(0, nc);
      p.grants = scratch.windows.slice(0, ng);
      p.id = id;
      p.email = email;
      p.subject = usableSubject(hi, lo, key, keyId);
      p.active = state === 'active';
      p.tokensValidAfter = tokensValidAfter;
      index.putPerson(p);
    }
    after = last;
  }
}

export function refreshPeople(db: Db, index: AccessIndex, ids: Iterable<number>): void {
  const personStmt = cached(db, `SELECT ${PERSON_COLUMNS} FROM people WHERE id = ?`);
  const cardStmt = cached(db, 'SELECT number, state FROM credentials WHERE person_id = ?');
  const grantStmt = cached(db, 'SELECT person_id, door_id, valid_from, valid_to FROM grants WHERE person_id = ?');
  for (const id of ids) {
    const p = personStmt.get(id) as PersonSql | undefined;
    if (!p) {
      index.removePerson(id);
      continue;
    }
    const cards = (cardStmt.all(id) as { number: string; state: string }[]).map((c) => ({
      number: c.number,
      active: c.state === 'active',
    }));
    const grants = (grantStmt.all(id) as GrantSql[]).map(toWindow);
    index.putPerson({ ...personInput(p, index.subjectKeyId), grants, cards });
  }
}

export function refreshDoors(db: Db, index: AccessIndex): void {
  index.setDoors((cached(db, 'SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
}
