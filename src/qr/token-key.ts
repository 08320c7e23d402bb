import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { TOKEN_KEY_BYTES } from './member-token.js';

export class TokenKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenKeyError';
  }
}

const HEX_KEY = /^[0-9a-fA-F]{64}\s*$/;

/**
 * The gateway's member-token key: whoever reads it can mint tokens that open doors. So the file
 * is created with mode 0600 and a file that group or others may read or write is refused
 * (fail closed, with the fix in the message) rather than used with a warning nobody reads.
 *
 * Format: 64 hex characters (what `openssl rand -hex 32` writes, so an operator can give two
 * gateways the same key), or exactly 32 raw bytes.
 */
export function loadOrCreateTokenKey(path: string): Buffer {
  const existing = statOrNull(path);
  if (existing === null) return createKey(path);
  return readKey(path);
}

function statOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TokenKeyError(`cannot read QR token key ${path}: ${(err as Error).message}`);
  }
}

function readKey(path: string): Buffer {
  const st = lstatSync(path);
  if (!st.isFile()) throw new TokenKeyError(`QR token key ${path} is not a regular file (symlinks are refused too)`);
  if ((st.mode & 0o077) !== 0) {
    throw new TokenKeyError(
      `QR token key ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
  const raw = readFileSync(path);
  if (raw.length === TOKEN_KEY_BYTES) return raw;
  const text = raw.toString('latin1');
  if (HEX_KEY.test(text)) return Buffer.from(text.trim(), 'hex');
  throw new TokenKeyError(`QR token key ${path} must hold 64 hex characters or ${TOKEN_KEY_BYTES} raw bytes`);
}

function createKey(path: string): Buffer {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const key = randomBytes(TOKEN_KEY_BYTES);
  let fd: number;
  try {
    // 'wx': never overwrite a key another process created a moment ago; mode applies at creation.
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKey(path);
    throw new TokenKeyError(`cannot create QR token key ${path}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
  return key;
}
