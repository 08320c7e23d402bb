import { afterEach, describe, expect, it } from 'vitest';
import { FailureGuard } from '../../src/access/failure-guard.js';
import type { ReaderConfig } from '../../src/config/schema.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder, RECORD_DELAY_MS } from '../../src/pipeline/decision-recorder.js';
import { FloodCollapser } from '../../src/pipeline/flood-collapse.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { AuditLog } from '../../src/store/audit.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testStore } from '../helpers/store.js';

const H = 3600_000;
const reader = (id: string): ReaderConfig => ({ id, kind: 'stdin', door: 'front', direction: 'in', cardFormat: 'decimal', payload: 'card', maxLineLength: 256 });

function setup(withGuard: boolean) {
  const s = testStore(['front']);
  const clock = new FakeClock();
  s.store.transact((tx) => {
    const ana = upsertPerson(tx, 'ana@example.com', 'Ana', clock.now());
    assignCredential(tx, ana, '7340861', 'decimal', 'active', clock.now());
    replaceSourceGrants(tx, 'staff', 'import:ana', [{ personId: ana, doorId: 'front', validFrom: clock.now() - H, validTo: clock.now() + 24 * H }]);
  });
  const metrics = new Metrics();
  const recorder = new DecisionRecorder({ audit: new AuditLog(s.store.db), clock, logger: silentLogger, metrics, recent: new RecentDecisions() });
  const collapser = new FloodCollapser(recorder, clock, { perSecond: 10 });
  const pipeline = new BadgePipeline({
    index: s.index,
    relay: { pulse: () => ({ status: 'sent' }) },
    recorder: collapser,
    clock,
    logger: silentLogger,
    qr: null,
    cardGuard: withGuard ? new FailureGuard({ maxFailures: 10, windowSec: 10, lockoutSec: 30 }) : undefined,
  });
  const rows = () => s.store.db.prepare('SELECT reader_id, reason, result, count, credential FROM audit ORDER BY id').all() as Array<{ reader_id: string; reason: string; result: string; count: number; credential: string | null }>;
  const decisionsCounted = async () =>
    (await metrics.text())
      .split('\n')
      .filter((l) => l.startsWith('lintel_decisions_total{'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  return { ...s, clock, pipeline, collapser, recorder, rows, decisionsCounted };
}

let ctx: ReturnType<typeof setup>;
afterEach(() => ctx.close());

describe('audit flood collapsing', () => {
  it('10,000 lines from one reader in 10 s: a bounded number of rows whose counts add up to 10,000', async () => {
    ctx = setup(true);
    const r = reader('flood');
    for (let i = 0; i < 10_000; i++) {
      ctx.pipeline.onLine(r, String(100_000 + i));
      ctx.clock.advance(1); // 1,000 lines/s for 10 s
    }
    ctx.clock.advance(2000);
    const rows = ctx.rows();
    expect(rows.length).toBeLessThanOrEqual(10 * (2 * 11)); // ≤ threshold + 1 rows per reason per second
    expect(rows.reduce((n, row) => n + row.count, 0)).toBe(10_000);
    expect(rows.filter((row) => row.count > 1).every((row) => row.reason === 'rate_limited' || row.reason === 'unknown_credential')).toBe(true);
    console.log(`10,000 lines → ${rows.length} audit rows`);
    // The decisions metric still counts every read, not every row.
    expect(await ctx.decisionsCounted()).toBe(10_000);
  });

  it('without a lock too (a reader repeating garbage), rows stay bounded per second and every read is counted', () => {
    ctx = setup(false);
    const r = reader('noisy');
    for (let i = 0; i < 10_000; i++) {
      ctx.pipeline.onLine(r, 'x'.repeat(5));
      ctx.clock.advance(0.1); // 10,000 lines/s for 1 s
    }
    ctx.collapser.flush();
    ctx.recorder.flush();
    const rows = ctx.rows();
    expect(rows.length).toBeLessThanOrEqual(2 * 11);
    expect(rows.reduce((n, row) => n + row.count, 0)).toBe(10_000);
  });

  it('granted reads are never collapsed, and a quiet reader is recorded row by row', () => {
    ctx = setup(false);
    for (let i = 0; i < 30; i++) ctx.pipeline.onLine(reader('busy'), '7340861');
    ctx.pipeline.onLine(reader('quiet'), '42');
    ctx.clock.advance(RECORD_DELAY_MS + 1000);
    const rows = ctx.rows();
    expect(rows.filter((row) => row.reason === 'granted')).toHaveLength(30);
    expect(rows.every((row) => row.count === 1)).toBe(true);
  });

  it('memory stays bounded: streams of quiet readers are forgotten once their second is over', () => {
    ctx = setup(false);
    for (let i = 0; i < 500; i++) ctx.pipeline.onLine(reader(`r${i}`), '42');
    expect(ctx.collapser.trackedStreams()).toBe(500);
    ctx.clock.advance(2000);
    expect(ctx.collapser.trackedStreams()).toBe(0);
    expect(ctx.rows()).toHaveLength(500);
  });
});
