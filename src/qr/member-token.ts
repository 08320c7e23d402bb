import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MemberSubject } from '../access/access-index.js';
import { KEY_ID_BYTES, tokenKeyId } from './member-subject.js';

/*
 * Member QR tokens (docs/member-qr-token.md has the byte layout and a test vector):
 *
 *   "LT2." + base64url(payload, 29 bytes) + "." + base64url(HMAC-SHA256(key, "LT2." + payloadPart)[0..16])
 *
 * payload = version (1) | keyId (4) | subject (8) | issuedAt (u32 BE, s) | expiresAt (u32 BE, s) | nonce (8)
 *
 * The subject is a keyed hash of the person's email (src/qr/member-subject.ts), the same at
 * every gateway that shares the key; version 1 carried the gateway's local row id, which named
 * another person at a second gateway, and is refused. 66 ASCII characters: fits a version-4 QR
 * code at error correction L. Verification is one HMAC and needs nothing but the key, so a door
 * opens for a member while the network is down. The MAC is checked, in constant time, before
 * any field but the key id is trusted.
 */

export const MEMBER_TOKEN_PREFIX = 'LT2.';
export const MEMBER_TOKEN_VERSION = 2;
export const TOKEN_KEY_BYTES = 32;
const PAYLOAD_BYTES = 29;
const MAC_BYTES = 16;
const PAYLOAD_CHARS = 39; // 29 bytes = 232 bits in 39 chars; the last char carries 2 zero bits
const MAC_CHARS = 22; // 16 bytes = 128 bits in 22 chars; the last char carries 4 zero bits
const SIGNED_CHARS = MEMBER_TOKEN_PREFIX.length + PAYLOAD_CHARS;
export const MEMBER_TOKEN_LENGTH = SIGNED_CHARS + 1 + MAC_CHARS;
/** Clocks of the issuing and the verifying side may differ a little (NTP, a second gateway). */
export const ISSUED_AT_SKEW_MS = 30_000;
const MAX_U32 = 0xffff_ffff;
const KEY_ID_AT = 1;
const SUBJECT_AT = KEY_ID_AT + KEY_ID_BYTES;
const ISSUED_AT = SUBJECT_AT + 8;
const EXPIRES_AT = ISSUED_AT + 4;
const NONCE_AT = EXPIRES_AT + 4;

export interface MemberTokenClaims {
  subject: MemberSubject;
  /** ms, whole seconds */
  issuedAt: number;
  /** ms, whole seconds, exclusive */
  expiresAt: number;
}

export type TokenCheck = ({ ok: true } & MemberTokenClaims) | { ok: false; reason: 'token_invalid' | 'token_expired' };

const INVALID = Object.freeze({ ok: false, reason: 'token_invalid' } as const);
const EXPIRED = Object.freeze({ ok: false, reason: 'token_expired' } as const);

function assertKey(key: Buffer): void {
  if (key.length !== TOKEN_KEY_BYTES) throw new Error(`member token key must be ${TOKEN_KEY_BYTES} bytes, got ${key.length}`);
}

function mac(key: Buffer, signed: string): Buffer {
  return createHmac('sha256', key).update(signed, 'latin1').digest().subarray(0, MAC_BYTES);
}

const isU32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= MAX_U32;

export function encodeMemberToken(key: Buffer, claims: MemberTokenClaims, nonce: Buffer = randomBytes(8)): string {
  assertKey(key);
  const issued = claims.issuedAt / 1000;
  const expires = claims.expiresAt / 1000;
  if (!isU32(claims.subject.hi) || !isU32(claims.subject.lo)) throw new RangeError('subject must be two 32-bit halves');
  if (!Number.isInteger(issued) || !Number.isInteger(expires) || issued < 0 || expires > MAX_U32 || expires <= issued) {
    throw new RangeError('issuedAt/expiresAt must be whole seconds with issuedAt < expiresAt');
  }
  if (nonce.length !== 8) throw new RangeError('nonce must be 8 bytes');
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeUInt8(MEMBER_TOKEN_VERSION, 0);
  tokenKeyId(key).copy(payload, KEY_ID_AT);
  payload.writeUInt32BE(claims.subject.hi, SUBJECT_AT);
  payload.writeUInt32BE(claims.subject.lo, SUBJECT_AT + 4);
  payload.writeUInt32BE(issued, ISSUED_AT);
  payload.writeUInt32BE(expires, EXPIRES_AT);
  nonce.copy(payload, NONCE_AT);
  const signed = MEMBER_TOKEN_PREFIX + payload.toString('base64url');
  return `${signed}.${mac(key, signed).toString('base64url')}`;
}

/*
 * Verification runs on every member scan, so it allocates as little as it can: the token is
 * copied once into a scratch buffer, base64url is decoded with a lookup table into fixed
 * buffers, and the only allocation left is the HMAC itself. Single-threaded JS makes the
 * module-level scratch space safe.
 */
const B64URL_VALUE = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((ch, i) => (B64URL_VALUE[ch.charCodeAt(0)] = i));
const scratchToken = Buffer.alloc(MEMBER_TOKEN_LENGTH);
const scratchPayload = Buffer.alloc(PAYLOAD_BYTES);
const scratchMac = Buffer.alloc(MAC_BYTES);

/** Decodes `chars` base64url characters at `from` into `out`; false on any non-alphabet byte. */
function decodeBase64Url(src: Buffer, from: number, chars: number, out: Buffer): boolean {
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = from; i < from + chars; i++) {
    const v = B64URL_VALUE[src[i]!]!;
    if (v < 0) return false;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o < out.length) out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero: otherwise two spellings would decode to the same bytes.
  return o === out.length && (acc & ((1 << bits) - 1)) === 0;
}

/**
 * Checks shape, key id, MAC (constant time), version and time. Who the subject is, revocation
 * and door access need the index and are decided by the caller (src/qr/qr-access.ts).
 */
export function verifyMemberToken(key: Buffer, token: string, now: number): TokenCheck {
  if (token.length !== MEMBER_TOKEN_LENGTH || !token.startsWith(MEMBER_TOKEN_PREFIX) || token.charCodeAt(SIGNED_CHARS) !== 0x2e) {
    return INVALID;
  }
  // latin1 keeps one byte per char; a non-ASCII char becomes a byte outside the alphabet.
  if (scratchToken.write(token, 0, 'latin1') !== MEMBER_TOKEN_LENGTH) return INVALID;
  if (!decodeBase64Url(scratchToken, MEMBER_TOKEN_PREFIX.length, PAYLOAD_CHARS, scratchPayload)) return INVALID;
  if (!decodeBase64Url(scratchToken, SIGNED_CHARS + 1, MAC_CHARS, scratchMac)) return INVALID;
  assertKey(key);
  // The key id is public (it is in every token): comparing it first only saves the HMAC for
  // tokens of another key. It selects nothing, so trusting it before the MAC gives nothing away.
  if (tokenKeyId(key).compare(scratchPayload, KEY_ID_AT, SUBJECT_AT) !== 0) return INVALID;
  const expected = createHmac('sha256', key).update(scratchToken.subarray(0, SIGNED_CHARS)).digest();
  if (!timingSafeEqual(scratchMac, expected.subarray(0, MAC_BYTES))) return INVALID;
  const payload = scratchPayload;
  if (payload[0] !== MEMBER_TOKEN_VERSION) return INVALID;
  const issuedAt = payload.readUInt32BE(ISSUED_AT) * 1000;
  const expiresAt = payload.readUInt32BE(EXPIRES_AT) * 1000;
  if (expiresAt <= issuedAt) return INVALID;
  if (issuedAt > now + ISSUED_AT_SKEW_MS) return INVALID; // not yet valid: issued "in the future"
  if (now >= expiresAt) return EXPIRED;
  const subject = { hi: payload.readUInt32BE(SUBJECT_AT), lo: payload.readUInt32BE(SUBJECT_AT + 4) };
  return { ok: true, subject, issuedAt, expiresAt };
}
