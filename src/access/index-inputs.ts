import type { GrantSource } from './grant-source.js';
import type { Membership } from './model.js';
import type { MemberSubject } from './subject-table.js';

/*
 * What the access index is given and gives back (access-index.ts re-exports all of it):
 * PersonInput and CardInput are the contract between the loader (src/store/index-loader.ts)
 * and the index.
 */

export interface GrantWindow {
  readonly door: string;
  /** ms since epoch, inclusive; -Infinity when open */
  readonly from: number;
  /** ms since epoch, exclusive; +Infinity when open */
  readonly to: number;
  /** A schedule of the index's model that also bounds the window; absent or null = at any time. */
  readonly schedule?: string | null;
  /** What the window comes from, reported by a decision it grants; absent = not said (null). */
  readonly source?: GrantSource;
}

/** A window as the index holds it (personWindows: tests, the SQL oracle, explanations). */
export interface StoredWindow {
  readonly door: string;
  readonly from: number;
  readonly to: number;
  readonly slot: number;
  readonly source: GrantSource | null;
}

export interface PersonAccess {
  readonly id: number;
  readonly active: boolean;
  /** Member QR tokens issued before this instant (ms) are void. */
  readonly tokensValidAfter: number;
}

export type SubjectOf = (email: string) => MemberSubject;

export interface AccessIndexOptions {
  hashSeed?: number;
  /** Without it nobody has a subject and every member token is refused as unknown. */
  subjectOf?: SubjectOf;
  /**
   * Id of the key subjectOf hashes with: the loader takes a subject stored in SQLite with this
   * key id as is (PersonInput.subject) instead of computing it (~2.6 µs a person).
   */
  subjectKeyId?: number;
  /** Told the local ids of the people sharing a subject whenever one more joins them. */
  onSubjectCollision?: (personIds: number[]) => void;
}

export interface PersonInput {
  id: number;
  /** Lower-cased email; the member-token subject is derived from it. */
  email?: string;
  /** The subject as stored with the index's key (subjectKeyId); when absent it is computed from email. */
  subject?: MemberSubject;
  active: boolean;
  tokensValidAfter: number;
  grants: GrantWindow[];
  cards: CardInput[];
  /** Person validity (people.valid_from/valid_to), ms; absent = open. */
  validFrom?: number;
  validTo?: number;
  /** Standing access by access group (person_groups rows), expanded by the index through its AccessModel. */
  memberships?: Membership[];
}

export interface CardInput {
  number: string;
  active: boolean;
  /** 'lost' is a disabled card reported lost (reason credential_lost); absent = from `active`. */
  state?: 'active' | 'disabled' | 'lost';
  /** The card's own validity, ms; absent = open. */
  validFrom?: number;
  validTo?: number;
}

