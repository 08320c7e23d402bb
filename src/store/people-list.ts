import { prepareCached as cached } from './db.js';
import type { PersonRow } from './people-repository.js';
import { decodeCursor, encodeCursor } from './page-cursor.js';
import { personView, type PersonView } from './person-view.js';
import type { Store } from './store.js';

/*
 * The people list of the API and `lintel people list --json`: ordered by email, paged by an
 * opaque cursor that holds the last email given out, so a page is stable while people are added
 * or removed elsewhere in the list and no row id ever leaves the process.
 */

export interface PeopleFilter {
  /** Part of the email, any case. */
  email?: string;
  /** Holds this access group (standing or by subscription), at any time. */
  group?: string;
  /** A member of this company. */
  company?: string;
  /** 'pending': no active card yet. */
  state?: 'active' | 'suspended' | 'pending';
}

export interface PeoplePage {
  items: PersonView[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  next: string | null;
}

export class BadCursorError extends Error {
  readonly code = 'invalid_cursor';
  constructor() {
    super('cursor is not one this gateway gave out');
    this.name = 'BadCursorError';
  }
}

const LIST_SQL = `
  SELECT p.* FROM people p
  WHERE p.email > @after
    AND (@email IS NULL OR instr(p.email, @email) > 0)
    AND (@state IS NULL OR (@state = 'pending' AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.person_id = p.id AND c.state = 'active'))
                        OR (@state <> 'pending' AND p.state = @state))
    AND (@grp IS NULL OR EXISTS (SELECT 1 FROM person_groups g WHERE g.person_id = p.id AND g.group_id = @grp))
    AND (@company IS NULL OR EXISTS (SELECT 1 FROM company_members m WHERE m.person_id = p.id AND m.company_id = @company))
  ORDER BY p.email LIMIT @limit`;

export function listPeople(store: Store, filter: PeopleFilter, cursor: string | undefined, limit: number): PeoplePage {
  const after = cursor === undefined ? '' : decodeCursor(cursor);
  if (after === undefined) throw new BadCursorError();
  return store.read((tx) => {
    const rows = cached(tx.db, LIST_SQL).all({
      after,
      email: filter.email?.toLowerCase() ?? null,
      state: filter.state ?? null,
      grp: filter.group ?? null,
      company: filter.company ?? null,
      limit: limit + 1,
    }) as PersonRow[];
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { items: page.map((r) => personView(tx, r)), next: more ? encodeCursor(page[page.length - 1]!.email) : null };
  });
}
