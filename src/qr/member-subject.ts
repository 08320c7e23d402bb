import { createHash, createHmac } from 'node:crypto';
import type { MemberSubject } from '../access/access-index.js';
import { normalizeEmail } from '../store/people.js';
import type { SubjectHasher } from '../store/subject-columns.js';
import { SubjectThread } from './subject-thread.js';

/*
 * Who a member token is for, named so that every gateway sharing the token key names the same
 * person the same way, and nobody without the key can tell who it is:
 *
 *   subject = HMAC-SHA256(key, "lintel/member-subject/v1\0" + lower-cased, trimmed email)[0..8]
 *
 * Never a row id: two gateways number their people in the order they met them. 64 bits keep
 * a collision between two real people unlikely (about 3 in 10^8 within a million people, 5 in
 * 10^8 across two gateways of a million each) and the index refuses both people of a collision
 * it can see. The prefix keeps
 * these hashes apart from the token MAC, which uses the same key.
 */

const SUBJECT_DOMAIN = 'lintel/member-subject/v1\0';
export const KEY_ID_BYTES = 4;

/** The subject hasher for one key; the index loader gets it injected (src/access holds no key). */
export function memberSubjectOf(key: Buffer): (email: string) => MemberSubject {
  return (email) => {
    const digest = createHmac('sha256', key).update(SUBJECT_DOMAIN + normalizeEmail(email), 'utf8').digest();
    return { hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4) };
  };
}

const keyIds = new WeakMap<Buffer, Buffer>();

/**
 * First 4 bytes of SHA-256(key): says which key signed a token without revealing it, so a
 * token of another (or a rotated) key is recognised as such before any MAC is computed. An
 * operator can compute it: `xxd -r -p qr-token.key | sha256sum | cut -c1-8`.
 */
export function tokenKeyId(key: Buffer): Buffer {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES);
    keyIds.set(key, id);
  }
  return id;
}

/** What a Store writes people's subjects with (migration 8), and what the index trusts a stored subject by. */
export function subjectHasher(key: Buffer): SubjectHasher {
  return { keyId: tokenKeyId(key).readUInt32BE(0), of: memberSubjectOf(key), onThread: () => new SubjectThread(key) };
}
