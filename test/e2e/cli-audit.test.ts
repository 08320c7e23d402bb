import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/store/audit.js';
import { openDatabase } from '../../src/store/db.js';
import { tempDir } from '../helpers/tmp.js';

/* `lintel audit export` and `lintel audit prune` on the built command, against a real database file. */

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const lintel = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const DAY = 86_400_000;

describe('lintel audit', () => {
  let dir: string;
  let cleanup: () => void;
  let config: string;
  const count = () => {
    const db = openDatabase(join(dir, 'data', 'lintel.db'));
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    config = join(dir, 'lintel.yaml');
    writeFileSync(config, `site: { id: cli }\ndataDir: ${join(dir, 'data')}\ndoors: [{ id: front }]\naudit: { retentionDays: 30 }\n`);
    mkdirSync(join(dir, 'data'));
    const db = openDatabase(join(dir, 'data', 'lintel.db'));
    const row = (at: number) => ({ at, readerId: 'r1', doorId: 'front', credential: '*****61', personId: null, result: 'denied' as const, reason: 'unknown_credential', relay: 'none' as const });
    new AuditLog(db).appendMany([row(Date.now() - 100 * DAY), row(Date.now() - 99 * DAY), row(Date.now() - DAY)]);
    db.close();
  });
  afterAll(() => cleanup());

  it('export writes every row to a gzip JSON Lines file and deletes nothing', () => {
    const out = join(dir, 'all.jsonl.gz');
    const res = lintel('audit', 'export', out, '-c', config);
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/exported 3 audit rows/);
    const lines = gunzipSync(readFileSync(out)).toString('utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { reason: string }).reason)).toEqual(Array(3).fill('unknown_credential'));
    expect(count()).toBe(3);
  });

  it('prune applies audit.retentionDays now: exports the old rows to the archive, then deletes them', () => {
    const res = lintel('audit', 'prune', '-c', config);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/pruned 2 audit rows older than 30 days into 1 file/);
    expect(readdirSync(join(dir, 'data', 'audit-archive'))).toHaveLength(1);
    expect(count()).toBe(1);
  });

  it('a wrong subcommand is a usage error', () => {
    expect(lintel('audit', 'frob', '-c', config).status).toBe(2);
    expect(lintel('--help').stdout).toContain('audit export');
  });
});
