import type { AccessIndex, GrantWindow, PersonInput } from '../access/access-index.js';
import { prepareCached as cached, type Db } from './db.js';

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

interface PersonSql {
  id: number;
  email: string;
  state: string;
  tokens_valid_after: number;
}

/** The email goes in so that the index can derive the person's member-token subject. */
function personInput(p: PersonSql): Pick<PersonInput, 'id' | 'email' | 'active' | 'tokensValidAfter'> {
  return { id: p.id, email: p.email, active: p.state === 'active', tokensValidAfter: p.tokens_valid_after };
}

function toWindow(g: GrantSql): GrantWindow {
  return { door: g.door_id, from: g.valid_from ?? -Infinity, to: g.valid_to ?? Infinity };
}

/**
 * People loaded per batch at start. Holding all 1,000,000 people as objects before putting them
 * (the first loader) left ~950 MB of garbage in the old generation: nothing collected it, and
 * every later scavenge took 4-10 ms instead of 1-2 (swipes queue behind those), with a
 * mark-compact of that heap still to come. A batch of this size dies young.
 */
export const LOAD_BATCH = 5000;

export function loadIndex(db: Db, index: AccessIndex): void {
  index.clear();
  index.setDoors((cached(db, 'SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
  const personStmt = cached(db, 'SELECT id, email, state, tokens_valid_after FROM people WHERE id > ? ORDER BY id LIMIT ?');
  const cardStmt = cached(db, 'SELECT person_id, number, state FROM credentials WHERE person_id > ? AND person_id <= ?');
  const grantStmt = cached(db, 'SELECT person_id, door_id, valid_from, valid_to FROM grants WHERE person_id > ? AND person_id <= ?');
  for (let after = -Infinity; ; ) {
    const rows = personStmt.all(after, LOAD_BATCH) as PersonSql[];
    if (rows.length === 0) break;
    const last = rows[rows.length - 1]!.id;
    const people = new Map<number, PersonInput>();
    for (const p of rows) people.set(p.id, { ...personInput(p), grants: [], cards: [] });
    for (const c of cardStmt.all(after, last) as { person_id: number; number: string; state: string }[]) {
      people.get(c.person_id)?.cards.push({ number: c.number, active: c.state === 'active' });
    }
    for (const g of grantStmt.all(after, last) as GrantSql[]) people.get(g.person_id)?.grants.push(toWindow(g));
    for (const p of people.values()) index.putPerson(p);
    after = last;
  }
}

export function refreshPeople(db: Db, index: AccessIndex, ids: Iterable<number>): void {
  const personStmt = cached(db, 'SELECT id, email, state, tokens_valid_after FROM people WHERE id = ?');
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
    index.putPerson({ ...personInput(p), grants, cards });
  }
}

export function refreshDoors(db: Db, index: AccessIndex): void {
  index.setDoors((cached(db, 'SELECT id FROM doors').all() as { id: string }[]).map((d) => d.id));
}
