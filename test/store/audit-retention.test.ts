import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditEntry } from '../../src/store/audit.js';
import { pruneAudit } from '../../src/store/audit-retention.js';
import { upsertPerson } from '../../src/store/people.js';
import { testStore } from '../helpers/store.js';
import { tempDir } from '../helpers/tmp.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-22T10:00:00Z');

function entry(at: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return { at, readerId: 'r1', doorId: 'front', credential: '*****61', personId: null, result: 'denied', reason: 'unknown_credential', relay: 'none', ...over };
}

describe('audit retention', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).reverse().forEach((c) => c()));

  function setup() {
    const s = testStore(['front']);
    const t = tempDir();
    cleanups.push(s.close, t.cleanup);
    const audit = new AuditLog(s.store.db);
    const ana = s.store.transact((tx) => upsertPerson(tx, 'ana@example.com', 'Ana', NOW - 400 * DAY));
    const archiveDir = join(t.dir, 'audit-archive');
    const count = () => (s.store.db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
    return { ...s, audit, ana, archiveDir, count };
  }

  it('the audit table stays append-only outside a retention run', () => {
    const ctx = setup();
    ctx.audit.appendMany([entry(NOW - 400 * DAY)]);
    expect(() => ctx.store.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(() => ctx.store.db.prepare("UPDATE audit SET reason = 'granted'").run()).toThrow(/append-only/);
    expect(ctx.count()).toBe(1);
  });

  it('exports what it prunes (gzip JSON Lines, no local row ids) and prunes only that', async () => {
    const ctx = setup();
    const old = Array.from({ length: 2500 }, (_, i) => entry(NOW - 200 * DAY + i, i === 0 ? { personId: ctx.ana, result: 'granted', reason: 'granted', relay: 'sent' } : {}));
    ctx.audit.appendMany([...old, entry(NOW - 10 * DAY, { count: 42 }), entry(NOW - DAY)]);
    const result = await pruneAudit(ctx.store, NOW, { retentionDays: 90, archiveDir: ctx.archiveDir, batchRows: 1000 });
    expect(result.pruned).toBe(2500);
    expect(result.files).toHaveLength(3);
    expect(ctx.count()).toBe(2);
    const lines = readdirSync(ctx.archiveDir)
      .sort()
      .flatMap((f) => gunzipSync(readFileSync(join(ctx.archiveDir, f))).toString('utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2500);
    expect(lines[0]).toEqual({
      at: new Date(NOW - 200 * DAY).toISOString(),
      reader: 'r1',
      door: 'front',
      credential: '*****61',
      person: 'ana@example.com',
      result: 'granted',
      reason: 'granted',
      relay: 'sent',
      count: 1,
    });
    expect(Object.keys(lines[1]!)).not.toContain('id');
    const exports = ctx.store.db.prepare('SELECT rows FROM audit_exports').all() as { rows: number }[];
    expect(exports.map((e) => e.rows)).toEqual([1000, 1000, 500]);
    // After the run the table is append-only again.
    expect(() => ctx.store.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    // A second run finds nothing to do.
    expect((await pruneAudit(ctx.store, NOW, { retentionDays: 90, archiveDir: ctx.archiveDir })).pruned).toBe(0);
  });

  it('nothing is deleted that was not exported: a failed export deletes nothing', async () => {
    const ctx = setup();
    ctx.audit.appendMany([entry(NOW - 200 * DAY), entry(NOW - 199 * DAY)]);
    mkdirSync(join(ctx.archiveDir, '..'), { recursive: true });
    writeFileSync(ctx.archiveDir, 'a file where the archive directory should be');
    await expect(pruneAudit(ctx.store, NOW, { retentionDays: 90, archiveDir: ctx.archiveDir })).rejects.toThrow();
    expect(ctx.count()).toBe(2);
    expect(ctx.store.db.prepare('SELECT COUNT(*) AS n FROM audit_prune_permit').get()).toEqual({ n: 0 });
  });

  it('retentionDays 0 keeps everything', async () => {
    const ctx = setup();
    ctx.audit.appendMany([entry(NOW - 4000 * DAY)]);
    expect(await pruneAudit(ctx.store, NOW, { retentionDays: 0, archiveDir: ctx.archiveDir })).toEqual({ pruned: 0, files: [] });
    expect(ctx.count()).toBe(1);
    expect(existsSync(ctx.archiveDir)).toBe(false);
  });
});
