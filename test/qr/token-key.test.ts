import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateTokenKey, TokenKeyError } from '../../src/qr/token-key.js';
import { tempDir } from '../helpers/tmp.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function dir(): string {
  const t = tempDir('lintel-qrkey-');
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('loadOrCreateTokenKey', () => {
  it('creates a 32-byte key with mode 0600 (and its directory) and loads the same key again', () => {
    const path = join(dir(), 'data', 'qr-token.key');
    const key = loadOrCreateTokenKey(path);
    expect(key).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe(`${key.toString('hex')}\n`);
    expect(loadOrCreateTokenKey(path)).toEqual(key);
  });

  it('refuses a key file that group or others can read or write', () => {
    const path = join(dir(), 'qr-token.key');
    loadOrCreateTokenKey(path);
    for (const mode of [0o640, 0o604, 0o620, 0o666]) {
      chmodSync(path, mode);
      expect(() => loadOrCreateTokenKey(path)).toThrow(TokenKeyError);
      expect(() => loadOrCreateTokenKey(path)).toThrow(/chmod 600/);
    }
  });

  it('accepts an operator-provided hex or raw key and refuses anything else', () => {
    const d = dir();
    const hex = join(d, 'hex.key');
    writeFileSync(hex, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    expect(loadOrCreateTokenKey(hex)).toEqual(Buffer.alloc(32, 0xab));
    const raw = join(d, 'raw.key');
    writeFileSync(raw, Buffer.alloc(32, 3), { mode: 0o600 });
    expect(loadOrCreateTokenKey(raw)).toEqual(Buffer.alloc(32, 3));
    const short = join(d, 'short.key');
    writeFileSync(short, 'abcd\n', { mode: 0o600 });
    expect(() => loadOrCreateTokenKey(short)).toThrow(/64 hex characters/);
  });

  it('refuses a symlink or a directory in place of the key file', () => {
    const d = dir();
    const target = join(d, 'real.key');
    loadOrCreateTokenKey(target);
    const link = join(d, 'link.key');
    symlinkSync(target, link);
    expect(() => loadOrCreateTokenKey(link)).toThrow(/not a regular file/);
    const sub = join(d, 'sub.key');
    mkdirSync(sub);
    expect(() => loadOrCreateTokenKey(sub)).toThrow(TokenKeyError);
  });
});
