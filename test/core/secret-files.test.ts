import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config/secret-files.js';
import { tempDir } from '../helpers/tmp.js';

/* Secret files: read with their reason when they cannot be, and refused when others could read them too. */

describe('readConfigFile', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((c) => c()));
  const dir = () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    return t.dir;
  };

  it('reads a private secret, trimmed', () => {
    const f = join(dir(), 'token');
    writeFileSync(f, 's3cret\n', { mode: 0o600 });
    expect(readConfigFile(f, 'secret')).toEqual({ ok: true, text: 's3cret', data: Buffer.from('s3cret\n') });
  });

  it('refuses a secret readable by group or others, naming the fix', () => {
    const f = join(dir(), 'token');
    writeFileSync(f, 's3cret\n');
    for (const mode of [0o640, 0o604, 0o644]) {
      chmodSync(f, mode);
      const r = readConfigFile(f, 'secret');
      expect(r.ok).toBe(false);
      expect(!r.ok && r.problem).toBe(`${f} is readable by group/others (mode 0${mode.toString(8)}): chmod 600 ${f}`);
    }
  });

  it('accepts a public file (a CA certificate) whatever its mode, and says why a missing one fails', () => {
    const d = dir();
    const ca = join(d, 'ca.pem');
    writeFileSync(ca, 'CERT', { mode: 0o644 });
    expect(readConfigFile(ca, 'public')).toMatchObject({ ok: true, text: 'CERT' });
    const r = readConfigFile(join(d, 'nope'), 'secret');
    expect(!r.ok && r.problem).toMatch(/^cannot read .*nope: ENOENT/);
  });
});
