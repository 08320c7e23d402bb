import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/*
 * Operator passwords: scrypt from node:crypto, always the async form. scryptSync would hold the
 * one event loop for ~50 ms per attempt, and that loop is the one that decides badges; a burst
 * of login attempts must cost the doors nothing. The async form runs on libuv's thread pool.
 *
 * The stored string describes itself (`scrypt$N$r$p$salt$hash`, salt and hash base64url), so
 * the cost can be raised later and old hashes still verify with the parameters they were made with.
 */

/**
 * One of OWASP's equivalent scrypt minimums (N=2^15, r=8, p=3): 32 MiB per hash instead of the
 * 128 MiB of N=2^17, which matters on a small box where a few logins may run at once.
 */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 3 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Node refuses scrypt above 32 MiB by default, and N=2^15,r=8 needs 32 MiB plus a little: allow twice the need. */
const maxmemFor = (N: number, r: number) => 128 * N * r * 2;

export const MIN_PASSWORD_LENGTH = 12;

function derive(password: string, salt: Buffer, N: number, r: number, p: number, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N, r, p, maxmem: maxmemFor(N, r) };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new hash string for `password`, with a fresh random salt. */
export async function hashPassword(password: string, params: { N: number; r: number; p: number } = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params.N, params.r, params.p, KEY_BYTES);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface Parsed {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Bounds keep a tampered row from asking for gigabytes of memory. */
function parseHash(encoded: string): Parsed | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^[0-9]{1,10}$/.test(s) ? Number(s) : NaN)) as [number, number, number];
  if (!(N >= 2 && N <= 2 ** 20 && (N & (N - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) return null;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || key.length < 16 || key.length > 128) return null;
  return { N, r, p, salt, key };
}

/** Whether `password` matches `encoded`; the comparison is constant-time. A malformed hash is a mismatch. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const h = parseHash(encoded);
  if (h === null) return false;
  const key = await derive(password, h.salt, h.N, h.r, h.p, h.key.length);
  return timingSafeEqual(key, h.key);
}

/**
 * For a name with no account: the same scrypt work as a real verify, then false, so how long a
 * login takes does not tell whether the name exists. The hash is made once, lazily.
 */
let dummy: Promise<string> | null = null;
export async function dummyVerify(password: string): Promise<false> {
  dummy ??= hashPassword('lintel dummy password, never an account');
  await verifyPassword(password, await dummy);
  return false;
}
