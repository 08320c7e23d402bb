import { prepareCached as cached, type Db } from './db.js';
import type { SubjectHasher } from './subject-columns.js';

export type PersonState = 'active' | 'suspended';

export interface PersonRow {
  id: number;
  email: string;
  name: string | null;
  state: PersonState;
  tokens_valid_after: number;
  /** ms, NULL = open (migration 11). */
  valid_from: number | null;
  valid_to: number | null;
}

/** A validity period in ms since epoch, `to` exclusive; null = open on that side. */
export interface Validity {
  from: number | null;
  to: number | null;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The tokens_valid_after a revocation at `now` sets: the next whole second after it. Token
 * times are whole seconds (issuedAt rounded down), so every token issued up to `now` has an
 * issuedAt below it, and the issuer dates a token issued later in that same second at this
 * instant (src/qr/issuer.ts): it works.
 */
export function tokensValidAfterRevocation(now: number): number {
  return Math.floor(now / 1000) * 1000 + 1000;
}

/**
 * The people table: the only place its SQL lives. No method tells the index anything: the
 * change_log triggers record every row written, and Store.transact reads them at commit.
 */
export class PeopleRepository {
  constructor(
    private readonly db: Db,
    /** Stores each new person's member-token subject when the writer holds the token key. */
    private readonly subjects: SubjectHasher | undefined,
  ) {}

  /**
   * Returns the person's id, creating them (without any card: "pending") if new. Reads first:
   * a booking sync names the same people over and over, and an unchanged row is not rewritten
   * (nor logged for the index to refresh).
   */
  upsert(email: string, name: string | null, now: number): number {
    const normalized = normalizeEmail(email);
    const found = cached(this.db, 'SELECT id, name FROM people WHERE email = ?').get(normalized) as { id: number; name: string | null } | undefined;
    if (found) {
      if (name !== null && name !== found.name) cached(this.db, 'UPDATE people SET name = ?, updated_at = ? WHERE id = ?').run(name, now, found.id);
      return found.id;
    }
    const subject = this.subjects?.of(normalized);
    const row = cached(
      this.db,
      'INSERT INTO people (email, name, created_at, updated_at, subject_hi, subject_lo, subject_key) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
    ).get(normalized, name, now, now, subject?.hi ?? null, subject?.lo ?? null, subject === undefined ? null : this.subjects!.keyId) as { id: number };
    return row.id;
  }

  byEmail(email: string): PersonRow | undefined {
    return cached(this.db, 'SELECT * FROM people WHERE email = ?').get(normalizeEmail(email)) as PersonRow | undefined;
  }

  byId(id: number): PersonRow | undefined {
    return cached(this.db, 'SELECT * FROM people WHERE id = ?').get(id) as PersonRow | undefined;
  }

  setState(personId: number, state: PersonState, now: number): void {
    cached(this.db, 'UPDATE people SET state = ?, updated_at = ? WHERE id = ?').run(state, now, personId);
  }

  /** Voids every member QR token issued to the person up to `now`; later ones stay valid. */
  revokeTokens(personId: number, now: number): void {
    cached(this.db, 'UPDATE people SET tokens_valid_after = MAX(tokens_valid_after, ?), updated_at = ? WHERE id = ?').run(
      tokensValidAfterRevocation(now),
      now,
      personId,
    );
  }

  /** The person's start and end dates; refused (RangeError) when the end is not after the start. */
  setValidity(personId: number, validity: Validity, now: number): void {
    if (validity.from !== null && validity.to !== null && validity.to <= validity.from) throw new RangeError('valid_to must be after valid_from');
    cached(this.db, 'UPDATE people SET valid_from = ?, valid_to = ?, updated_at = ? WHERE id = ?').run(validity.from, validity.to, now, personId);
  }

  /** Deletes the person with their cards, grants and memberships (ON DELETE CASCADE). */
  remove(personId: number): boolean {
    return cached(this.db, 'DELETE FROM people WHERE id = ?').run(personId).changes > 0;
  }

  // The card list's bulk path (card-import.ts): set-based statements over JSON arrays of a batch.

  /** [position in `emails`, id, name] of the emails that exist. */
  findMany(emails: readonly string[]): [number, number, string | null][] {
    return cached(this.db, 'SELECT j.key, p.id, p.name FROM json_each(?) j JOIN people p ON p.email = j.value')
      .raw()
      .all(JSON.stringify(emails)) as [number, number, string | null][];
  }

  rename(personId: number, name: string | null, now: number): void {
    cached(this.db, 'UPDATE people SET name = ?, updated_at = ? WHERE id = ?').run(name, now, personId);
  }

  /** Creates people given as [email, name, subject hi, subject lo] (the hasher's key id beside them); returns [id, email]. */
  insertMany(rows: readonly [string, string | null, number | null, number | null][], now: number): [number, string][] {
    return cached(
      this.db,
      `INSERT INTO people (email, name, created_at, updated_at, subject_hi, subject_lo, subject_key)
       SELECT j.value->>0, j.value->>1, @now, @now, j.value->>2, j.value->>3, @key FROM json_each(@rows) j ORDER BY j.key
       RETURNING id, email`,
    )
      .raw()
      .all({ now, rows: JSON.stringify(rows), key: this.subjects?.keyId ?? null }) as [number, string][];
  }

  /** The highest id given so far, 0 for none: the card list numbers its new people after it, as SQLite itself would. */
  lastId(): number {
    return cached(this.db, 'SELECT coalesce(max(id), 0) AS last FROM people').pluck().get() as number;
  }

  /**
   * Creates people given as [id, email, name, subject hi, subject lo] (the hasher's key id beside
   * them), ids taken after lastId() in this transaction: nothing to return, nothing to sort.
   */
  insertNumbered(rows: readonly [number, string, string | null, number | null, number | null][], now: number): void {
    cached(
      this.db,
      `INSERT INTO people (id, email, name, created_at, updated_at, subject_hi, subject_lo, subject_key)
       SELECT j.value->>0, j.value->>1, j.value->>2, @now, @now, j.value->>3, j.value->>4, @key FROM json_each(@rows) j`,
    ).run({ now, rows: JSON.stringify(rows), key: this.subjects?.keyId ?? null });
  }

  /** The subject a new person of the bulk path is stored with, when the writer holds the key. */
  subjectOf(email: string): { hi: number; lo: number } | undefined {
    return this.subjects?.of(email);
  }
}
