import { describe, expect, it } from 'vitest';
import { matchingSecrets, parseSignatures, parseTimestamp, signWebhook, timestampFresh } from '../../src/upstream/signature.js';
import { isValidWebhookSecret } from '../../src/upstream/schemas.js';
import { newWebhookSecret } from '../../src/upstream/subscriptions.js';

// The Standard Webhooks reference test vector.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

describe('Standard Webhooks signatures', () => {
  it('matches the reference vector', () => {
    expect(signWebhook(SECRET, ID, TS, BODY)).toBe(EXPECTED);
  });

  it('finds which live secrets signed, among several space-separated signatures', () => {
    const other = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const header = `v1a,xyz v1,${Buffer.alloc(32).toString('base64')} ${EXPECTED} v1,short`;
    expect(parseSignatures(header)).toHaveLength(2);
    expect(matchingSecrets([other, SECRET], ID, String(TS), Buffer.from(BODY), parseSignatures(header))).toEqual([1]);
    expect(matchingSecrets([SECRET], ID, String(TS), Buffer.from(`${BODY} `), parseSignatures(header))).toEqual([]);
    expect(matchingSecrets([SECRET], ID, String(TS + 1), Buffer.from(BODY), parseSignatures(header))).toEqual([]);
  });

  it('timestamps: integer seconds only, 5 minutes either way', () => {
    expect(parseTimestamp('1614265330')).toBe(TS);
    for (const bad of ['', '1.5', '-3', '0x10', ' 12']) expect(parseTimestamp(bad)).toBeNull();
    expect(timestampFresh(TS, (TS + 300) * 1000)).toBe(true);
    expect(timestampFresh(TS, (TS + 301) * 1000)).toBe(false);
    expect(timestampFresh(TS, (TS - 301) * 1000)).toBe(false);
  });

  it('new secrets are whsec_ + base64 of 32 random bytes, valid for the platform', () => {
    const secret = newWebhookSecret(() => Buffer.alloc(32, 0xab));
    expect(secret).toBe(`whsec_${Buffer.alloc(32, 0xab).toString('base64')}`);
    expect(isValidWebhookSecret(secret)).toBe(true);
    expect(isValidWebhookSecret(SECRET)).toBe(true);
  });
});
