import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { subjectHasher } from '../../src/qr/member-subject.js';
import { loadOrCreateTokenKey } from '../../src/qr/token-key.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * `lintel cards import` writes each new person's member-token subject with the gateway's key
 * (migration 8), so the gateway's next start does not hash every email again; with a key it
 * cannot use it still imports, without subjects (the gateway computes them).
 */

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function site(): { dir: string; config: string; csv: string } {
  const t = tempDir();
  cleanup.push(t.cleanup);
  const config = join(t.dir, 'lintel.yaml');
  writeFileSync(config, `site: { id: cli }\ndataDir: ${join(t.dir, 'data')}\ndoors: [{ id: front }]\n`);
  const csv = join(t.dir, 'cards.csv');
  writeFileSync(csv, 'email,card,doors\nAna@Example.com,1001,front\nbo@example.com,1002,front\n');
  return { dir: t.dir, config, csv };
}

function subjects(dir: string): { email: string; subject_hi: number | null; subject_lo: number | null; subject_key: number | null }[] {
  const db = new Database(join(dir, 'data', 'lintel.db'), { readonly: true });
  try {
    return db.prepare('SELECT email, subject_hi, subject_lo, subject_key FROM people ORDER BY email').all() as ReturnType<typeof subjects>;
  } finally {
    db.close();
  }
}

describe('cards import stores member-token subjects', () => {
  it('with the key in the data dir (created if none): each person with the subject of that key', () => {
    const s = site();
    const res = spawnSync(process.execPath, [CLI, 'cards', 'import', s.csv, '-c', s.config], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const hasher = subjectHasher(loadOrCreateTokenKey(join(s.dir, 'data', 'qr-token.key')));
    expect(subjects(s.dir)).toEqual(
      ['ana@example.com', 'bo@example.com'].map((email) => ({ email, subject_hi: hasher.of(email).hi, subject_lo: hasher.of(email).lo, subject_key: hasher.keyId })),
    );
  });

  it('with a key it must refuse (readable by others): imports anyway, without subjects, and says so', () => {
    const s = site();
    const keyFile = join(s.dir, 'data', 'qr-token.key');
    loadOrCreateTokenKey(keyFile);
    chmodSync(keyFile, 0o644);
    const res = spawnSync(process.execPath, [CLI, 'cards', 'import', s.csv, '-c', s.config], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/accessible by group or others.*written without their member-token subject/);
    expect(subjects(s.dir).map((p) => p.subject_key)).toEqual([null, null]);
  });
});
