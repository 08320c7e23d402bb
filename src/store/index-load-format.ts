/*
 * What the index-load worker (index-load-worker.ts) sends the main thread (index-load-pages.ts):
 * a page of people with their cards, grants and memberships as typed arrays, whose buffers are
 * transferred, plus the strings of the page; and the change refresher's requests and replies
 * (index-refresh.ts, index-refresh-worker.ts), which carry the same page. Types and constants
 * only, so the workers import nothing else of the gateway.
 */

export interface LoadJob {
  file: string;
  /** The id of the key whose stored subjects the index takes (AccessIndex.subjectKeyId), or null. */
  keyId: number | null;
  /** Whether the index hashes emails: then the emails of people without a usable stored subject are sent. */
  wantEmails: boolean;
  batch: number;
  /** Pages the worker may read ahead of the main thread's fill. */
  ahead: number;
  /** SharedArrayBuffer of two Int32: pages posted, pages filled. */
  flow: SharedArrayBuffer;
}

/** Person flags. */
export const PERSON_ACTIVE = 1;
export const PERSON_STORED_SUBJECT = 2;
/** A value the typed arrays cannot carry as the row loader passes it on (not an integer or NULL): the main thread reads this person by rows. */
export const PERSON_ODD = 4;

export const CARD_STATES = ['active', 'disabled', 'lost'] as const;

/** NULL travels as NaN (SQLite stores no NaN). */
export interface PackedPage {
  ids: Float64Array<ArrayBuffer>;
  flags: Uint8Array<ArrayBuffer>;
  /** tokensValidAfter, validFrom, validTo: three a person. */
  numbers: Float64Array<ArrayBuffer>;
  /** hi, lo of the stored subject (PERSON_STORED_SUBJECT). */
  subjects: Uint32Array<ArrayBuffer>;
  /** The emails of the people without a stored subject, in person order (only when the job wants them). */
  emails: string[];
  cardCounts: Uint32Array<ArrayBuffer>;
  cardStrings: string[];
  /** Index into CARD_STATES. */
  cardStates: Uint8Array<ArrayBuffer>;
  /** validFrom, validTo: two a card. */
  cardBounds: Float64Array<ArrayBuffer>;
  grantCounts: Uint32Array<ArrayBuffer>;
  /** The page's distinct doors; grantDoors index into them. */
  doorNames: string[];
  grantDoors: Uint32Array<ArrayBuffer>;
  /** from, to: two a grant. */
  grantBounds: Float64Array<ArrayBuffer>;
  /** Rows as they come (few sites have any): person, group, from, to. */
  memberships: [number, string, number | null, number | null][];
}

export type LoadMessage =
  | { kind: 'start'; seq: number; doors: string[]; people: number; activeCards: number }
  | { kind: 'page'; page: PackedPage }
  | { kind: 'end' }
  | { kind: 'error'; message: string };

/** A change refresher's request: the people to read. */
export interface RefreshRequest {
  id: number;
  /** Person ids to read; each is either in the page or in `missing`. */
  ids: number[];
  /** As in LoadJob. */
  keyId: number | null;
  wantEmails: boolean;
}

export type RefreshReply =
  | { kind: 'page'; id: number; page: PackedPage; missing: number[] }
  | { kind: 'error'; id: number; message: string };
