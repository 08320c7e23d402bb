import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * Member QR tokens (docs/member-qr-token.md has the byte layout and a test vector):
 *
 *   "LT1." + base64url(payload, 21 bytes) + "." + base64url(HMAC-SHA256(key, "LT1." + payloadPart)[0..16])
 *
 * payload = version (1) | personId (u32 BE) | issuedAt (u32 BE, s) | expiresAt (u32 BE, s) | nonce (8)
 *
 * 55 ASCII characters: fits a version-4 QR code at error correction L. Verification is one HMAC
 * and needs nothing but the key, so a door opens for a member while the network is down. The
 * MAC is checked before any field is trusted, in constant time.
 */

export const MEMBER_TOKEN_PREFIX = 'LT1.';
export const MEMBER_TOKEN_VERSION = 1;
export const TOKEN_KEY_BYTES = 32;
const PAYLOAD_BYTES = 21;
const MAC_BYTES = 16;
const PAYLOAD_CHARS = 28; // 21 bytes = 168 bits = exactly 28 base64 chars, no padding bits
const MAC_CHARS = 22; // 16 bytes = 128 bits in 22 chars; the last char carries 4 zero bits
const SIGNED_CHARS = MEMBER_TOKEN_PREFIX.length + PAYLOAD_CHARS;
export const MEMBER_TOKEN_LENGTH = SIGNED_CHARS + 1 + MAC_CHARS;
/** Clocks of the issuing and the verifying side may differ a little (NTP, a second gateway). */
export const ISSUED_AT_SKEW_MS = 30_000;
const MAX_U32 = 0xffff_ffff;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Last char of a 16-byte base64url string: its low 4 bits must be 0, or two strings decode alike. */
const CANONICAL_LAST_MAC_CHAR = /[AQgw]$/;

export interface MemberTokenClaims {
  personId: number;
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

export function encodeMemberToken(key: Buffer, claims: MemberTokenClaims, nonce: Buffer = randomBytes(8)): string {
  assertKey(key);
  const issued = claims.issuedAt / 1000;
  const expires = claims.expiresAt / 1000;
  if (!Number.isInteger(claims.personId) || claims.personId < 1 || claims.personId > MAX_U32) {
    throw new RangeError('personId does not fit a member token');
  }
  if (!Number.isInteger(issued) || !Number.isInteger(expires) || issued < 0 || expires > MAX_U32 || expires <= issued) {
    throw new RangeError('issuedAt/expiresAt must be whole seconds with issuedAt < expiresAt');
  }
  if (nonce.length !== 8) throw new RangeError('nonce must be 8 bytes');
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeUInt8(MEMBER_TOKEN_VERSION, 0);
  payload.writeUInt32BE(claims.personId, 1);
  payload.writeUInt32BE(issued, 5);
  payload.writeUInt32BE(expires, 9);
  nonce.copy(payload, 13);
  const signed = MEMBER_TOKEN_PREFIX + payload.toString('base64url');
  return `${signed}.${mac(key, signed).toString('base64url')}`;
}

/**
 * Checks shape, MAC (constant time), version and time. Revocation and door access need the
 * person and are decided by the caller (src/qr/qr-access.ts).
 */
export function verifyMemberToken(key: Buffer, token: string, now: number): TokenCheck {
  if (token.length !== MEMBER_TOKEN_LENGTH || !token.startsWith(MEMBER_TOKEN_PREFIX) || token.charCodeAt(SIGNED_CHARS) !== 0x2e) {
    return INVALID;
  }
  const signed = token.slice(0, SIGNED_CHARS);
  const payloadPart = token.slice(MEMBER_TOKEN_PREFIX.length, SIGNED_CHARS);
  const macPart = token.slice(SIGNED_CHARS + 1);
  if (!BASE64URL.test(payloadPart) || !BASE64URL.test(macPart) || !CANONICAL_LAST_MAC_CHAR.test(macPart)) return INVALID;
  assertKey(key);
  const given = Buffer.from(macPart, 'base64url');
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(key, signed))) return INVALID;
  const payload = Buffer.from(payloadPart, 'base64url');
  if (payload.length !== PAYLOAD_BYTES || payload.readUInt8(0) !== MEMBER_TOKEN_VERSION) return INVALID;
  const personId = payload.readUInt32BE(1);
  const issuedAt = payload.readUInt32BE(5) * 1000;
  const expiresAt = payload.readUInt32BE(9) * 1000;
  if (personId === 0 || expiresAt <= issuedAt) return INVALID;
  if (issuedAt > now + ISSUED_AT_SKEW_MS) return INVALID; // not yet valid: issued "in the future"
  if (now >= expiresAt) return EXPIRED;
  return { ok: true, personId, issuedAt, expiresAt };
}
