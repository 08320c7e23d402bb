import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyQrPayload } from '../../src/qr/classify.js';
import { memberSubjectOf, tokenKeyId } from '../../src/qr/member-subject.js';
import { encodeMemberToken, ISSUED_AT_SKEW_MS, MEMBER_TOKEN_LENGTH, verifyMemberToken } from '../../src/qr/member-token.js';

/** The test vector of docs/member-qr-token.md. */
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const VECTOR = {
  key: KEY,
  email: 'ana@example.com',
  subject: { hi: 0x0441b0cf, lo: 0xdcc889fb },
  issuedAt: Date.parse('2026-11-22T10:00:00Z'),
  expiresAt: Date.parse('2026-11-22T10:05:00Z'),
  nonce: Buffer.from('0102030405060708', 'hex'),
  payloadHex: '02630dcd290441b0cfdcc889fb6b02bd206b02be4c0102030405060708',
  token: 'LT2.AmMNzSkEQbDP3MiJ-2sCvSBrAr5MAQIDBAUGBwg.3HKTCVo1ZULmUh58tNVaMg',
};
/** The last version-1 token of the old documentation: it named the person by a local row id. */
const V1_TOKEN = 'LT1.AQAAACprAr0gawK-TAECAwQFBgcI.ytdbb-YFZ8_1o3kwB3LGuA';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('member token format', () => {
  it('matches the documented test vector byte for byte', () => {
    // subject = HMAC-SHA256(key, "lintel/member-subject/v1\0" + email)[0..8]; the email is normalised first.
    const mac8 = createHmac('sha256', KEY).update(`lintel/member-subject/v1\0${VECTOR.email}`).digest().subarray(0, 8);
    expect(mac8.toString('hex')).toBe('0441b0cfdcc889fb');
    expect(memberSubjectOf(KEY)(' Ana@Example.COM ')).toEqual(VECTOR.subject);
    expect(tokenKeyId(KEY)).toEqual(createHash('sha256').update(KEY).digest().subarray(0, 4));
    const token = encodeMemberToken(VECTOR.key, VECTOR, VECTOR.nonce);
    expect(token).toBe(VECTOR.token);
    expect(token).toHaveLength(MEMBER_TOKEN_LENGTH);
    expect(MEMBER_TOKEN_LENGTH).toBe(66);
    const [prefix, payload, mac] = token.split('.');
    expect(prefix).toBe('LT2');
    expect(Buffer.from(payload!, 'base64url').toString('hex')).toBe(VECTOR.payloadHex);
    const full = createHmac('sha256', VECTOR.key).update(`LT2.${payload}`).digest();
    expect(Buffer.from(mac!, 'base64url')).toEqual(full.subarray(0, 16));
    expect(verifyMemberToken(VECTOR.key, VECTOR.token, VECTOR.issuedAt + 1000)).toEqual({
      ok: true,
      subject: VECTOR.subject,
      issuedAt: VECTOR.issuedAt,
      expiresAt: VECTOR.expiresAt,
    });
  });

  it('refuses version-1 tokens (they carried a local row id) as token_invalid, never as a visitor code', () => {
    expect(classifyQrPayload(V1_TOKEN)).toEqual({ kind: 'member', token: V1_TOKEN });
    expect(verifyMemberToken(KEY, V1_TOKEN, VECTOR.issuedAt)).toEqual({ ok: false, reason: 'token_invalid' });
  });

  it('refuses a token whose key id is not this key’s, even with a MAC of this key', () => {
    const payload = Buffer.from(VECTOR.payloadHex, 'hex');
    payload[1] = payload[1]! ^ 0xff;
    const signed = `LT2.${payload.toString('base64url')}`;
    const mac = createHmac('sha256', KEY).update(signed).digest().subarray(0, 16).toString('base64url');
    expect(verifyMemberToken(KEY, `${signed}.${mac}`, VECTOR.issuedAt)).toEqual({ ok: false, reason: 'token_invalid' });
  });

  it('expires at expiresAt (exclusive) and refuses tokens issued in the future beyond the skew', () => {
    expect(verifyMemberToken(VECTOR.key, VECTOR.token, VECTOR.expiresAt - 1).ok).toBe(true);
    expect(verifyMemberToken(VECTOR.key, VECTOR.token, VECTOR.expiresAt)).toEqual({ ok: false, reason: 'token_expired' });
    expect(verifyMemberToken(VECTOR.key, VECTOR.token, VECTOR.issuedAt - ISSUED_AT_SKEW_MS).ok).toBe(true);
    expect(verifyMemberToken(VECTOR.key, VECTOR.token, VECTOR.issuedAt - ISSUED_AT_SKEW_MS - 1)).toEqual({
      ok: false,
      reason: 'token_invalid',
    });
  });

  it('refuses a token signed with another key', () => {
    const other = Buffer.alloc(32, 7);
    expect(verifyMemberToken(other, VECTOR.token, VECTOR.issuedAt)).toEqual({ ok: false, reason: 'token_invalid' });
  });

  it('refuses an unknown version even with a valid MAC', () => {
    const payload = Buffer.from(VECTOR.payloadHex, 'hex');
    payload[0] = 1;
    const signed = `LT2.${payload.toString('base64url')}`;
    const mac = createHmac('sha256', VECTOR.key).update(signed).digest().subarray(0, 16).toString('base64url');
    expect(verifyMemberToken(VECTOR.key, `${signed}.${mac}`, VECTOR.issuedAt)).toEqual({ ok: false, reason: 'token_invalid' });
  });

  it('refuses bad shapes', () => {
    const now = VECTOR.issuedAt;
    for (const bad of ['', 'LT2.', VECTOR.token.slice(0, -1), `${VECTOR.token}A`, VECTOR.token.replace('LT2.', 'LT3.'),
      VECTOR.token.replace('.3HK', '!3HK'), `${VECTOR.token.slice(0, 10)}+${VECTOR.token.slice(11)}`]) {
      expect(verifyMemberToken(VECTOR.key, bad, now).ok).toBe(false);
    }
  });

  it('refuses a non-canonical MAC encoding that would decode to the same bytes', () => {
    // The last char 'g' carries 2 MAC bits and 4 padding bits; 'h' differs only in padding.
    expect(VECTOR.token.endsWith('g')).toBe(true);
    const alias = `${VECTOR.token.slice(0, -1)}h`;
    expect(Buffer.from(alias.split('.')[2]!, 'base64url')).toEqual(Buffer.from(VECTOR.token.split('.')[2]!, 'base64url'));
    expect(verifyMemberToken(VECTOR.key, alias, VECTOR.issuedAt)).toEqual({ ok: false, reason: 'token_invalid' });
  });

  it('property: changing any one character of a valid token makes it refused', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MEMBER_TOKEN_LENGTH - 1 }),
        fc.constantFrom(...(B64URL + '.').split('')),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (pos, replacement, nonce, hi, lo) => {
          const token = encodeMemberToken(VECTOR.key, { ...VECTOR, subject: { hi, lo } }, Buffer.from(nonce));
          fc.pre(token[pos] !== replacement);
          const tampered = token.slice(0, pos) + replacement + token.slice(pos + 1);
          expect(verifyMemberToken(VECTOR.key, tampered, VECTOR.issuedAt).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: flipping any bit of any byte is refused', () => {
    const bytes = Buffer.from(VECTOR.token, 'latin1');
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(bytes);
        copy[i] = copy[i]! ^ (1 << bit);
        expect(verifyMemberToken(VECTOR.key, copy.toString('latin1'), VECTOR.issuedAt).ok, `byte ${i} bit ${bit}`).toBe(false);
      }
    }
  });

  it('refuses to encode claims that do not fit', () => {
    expect(() => encodeMemberToken(VECTOR.key, { ...VECTOR, subject: { hi: -1, lo: 0 } })).toThrow(RangeError);
    expect(() => encodeMemberToken(VECTOR.key, { ...VECTOR, subject: { hi: 0, lo: 2 ** 32 } })).toThrow(RangeError);
    expect(() => encodeMemberToken(VECTOR.key, { ...VECTOR, expiresAt: VECTOR.issuedAt })).toThrow(RangeError);
    expect(() => encodeMemberToken(VECTOR.key, { ...VECTOR, issuedAt: VECTOR.issuedAt + 500 })).toThrow(RangeError);
    expect(() => encodeMemberToken(Buffer.alloc(16), VECTOR)).toThrow(/32 bytes/);
  });
});
