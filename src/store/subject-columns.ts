import type { MemberSubject } from '../access/access-index.js';

/**
 * The member-token subject as a writer stores it beside the person (migration 8): the hasher of
 * the gateway's token key and that key's id. Injected into the Store by whoever holds the key
 * (the gateway, `lintel cards import`); src/store never reads the key itself.
 */
export interface SubjectHasher {
  /** First 4 bytes of SHA-256(key) as an unsigned integer (src/qr/member-subject.ts: tokenKeyId). */
  readonly keyId: number;
  of(email: string): MemberSubject;
  /** The same subjects computed on another thread, for a bulk writer that can hand emails over early (card-import.ts). */
  onThread?(): SubjectBatches;
}

/**
 * Subjects computed on a thread of their own while the caller does other work: emails are
 * added in batches, and finish() gives every subject in the order added, or undefined when the
 * thread failed (the caller then computes them with `of`: the thread only ever saves time).
 */
export interface SubjectBatches {
  add(emails: readonly string[]): void;
  /** hi and lo of the k-th email added at [k]; the thread ends. */
  finish(): Promise<{ hi: Uint32Array; lo: Uint32Array } | undefined>;
  /** Ends the thread without waiting for it (the caller's work failed). */
  cancel(): void;
}

/** The columns of people that hold a stored subject, as the loader reads them. */
export interface StoredSubject {
  subject_hi: number | null;
  subject_lo: number | null;
  subject_key: number | null;
}

/**
 * The stored subject when it was made with the key the index runs with, else undefined (the
 * index computes it: a row written before migration 8, by a writer without the key, after an
 * email change, or under a rotated key).
 */
export function usableSubject(hi: number | null, lo: number | null, storedKey: number | null, keyId: number | undefined): MemberSubject | undefined {
  if (keyId === undefined || storedKey !== keyId || hi === null || lo === null) return undefined;
  return { hi, lo };
}
