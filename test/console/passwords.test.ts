import { describe, expect, it } from 'vitest';
import { dummyVerify, hashPassword, SCRYPT_PARAMS, verifyPassword } from '../../src/console/passwords.js';

/* Operator password hashing: async scrypt, a self-describing string, a fresh salt each time, verify by the stored parameters. */

// A low cost for the cases that only check the format's handling; one case uses the real default.
const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe('operator passwords', () => {
  it('hashes with the default parameters into scrypt$N$r$p$salt$hash and verifies only the same password', async () => {
    const encoded = await hashPassword('correct horse battery');
    const [tag, N, r, p, salt, key] = encoded.split('$');
    expect([tag, Number(N), Number(r), Number(p)]).toEqual(['scrypt', SCRYPT_PARAMS.N, SCRYPT_PARAMS.r, SCRYPT_PARAMS.p]);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(key!, 'base64url')).toHaveLength(32);
    expect(encoded).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', encoded)).toBe(true);
    expect(await verifyPassword('correct horse batterY', encoded)).toBe(false);
    // Three hashes at the production cost: seconds on a box whose cores are shared.
  }, 60_000);

  it('salts every hash afresh, and verifies each by the parameters written in it', async () => {
    const a = await hashPassword('same password here', FAST);
    const b = await hashPassword('same password here', FAST);
    expect(a).not.toBe(b);
    expect(a.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('same password here', a)).toBe(true);
    expect(await verifyPassword('same password here', b)).toBe(true);
  });

  it('treats a malformed or tampered hash as a mismatch, never an error or a huge allocation', async () => {
    const good = await hashPassword('some long password', FAST);
    const parts = good.split('$');
    const variants = [
      '',
      'bcrypt$x',
      good.replace(/^scrypt/, 'scrypt2'),
      [parts[0], 2 ** 30, ...parts.slice(2)].join('$'), // N beyond the bound: refused before any work
      [parts[0], 1000, ...parts.slice(2)].join('$'), // not a power of two
      [...parts.slice(0, 5), 'AAAA'].join('$'), // a key too short to mean anything
      `${good}$extra`,
    ];
    for (const v of variants) expect(await verifyPassword('some long password', v)).toBe(false);
  });

  it('the dummy verify for an unknown name answers false after doing the scrypt work', async () => {
    expect(await dummyVerify('anything at all')).toBe(false);
    expect(await dummyVerify('')).toBe(false);
  }, 60_000);

  it('normalises Unicode so the same typed password verifies whichever form the keyboard sent', async () => {
    const encoded = await hashPassword('caf\u00e9 au lait 2026', FAST);
    expect(await verifyPassword('cafe\u0301 au lait 2026', encoded)).toBe(true);
  });
});
