import { afterEach, describe, expect, it } from 'vitest';
import type { ReaderConfig } from '../../src/config/schema.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder, RECORD_DELAY_MS } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { AuditLog } from '../../src/store/audit.js';
import { neverWaitForLocks } from '../../src/store/db.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { createLogger, silentLogger, type Logger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { testStore } from '../helpers/store.js';

const H = 3600_000;
const front: ReaderConfig = { id: 'r-front', kind: 'stdin', door: 'front', direction: 'in', cardFormat: 'decimal', payload: 'card', maxLineLength: 256 };

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(maxQueuedRows: number, logger: Logger = silentLogger) {
  const s = testStore(['front']);
  cleanup.push(s.close);
  const clock = new FakeClock();
  const t0 = clock.now();
  s.store.transact((tx) => {
    const a = upsertPerson(tx, 'ana@example.com', 'Ana', t0);
    assignCredential(tx, a, '7340861', 'decimal', 'active', t0);
    replaceSourceGrants(tx, 'staff', 'import:ana', [{ personId: a, doorId: 'front', validFrom: t0 - H, validTo: t0 + H }]);
  });
  neverWaitForLocks(s.store.db); // as the gateway's main thread runs
  const pulses: string[] = [];
  const metrics = new Metrics();
  const recent = new RecentDecisions(1000);
  const audit = new AuditLog(s.store.db);
  const recorder = new DecisionRecorder({ audit, clock, logger, metrics, recent, maxQueuedRows });
  const relay = { pulse: (door: string) => (pulses.push(door), { status: 'sent' as const }) };
  const pipeline = new BadgePipeline({ index: s.index, relay, recorder, clock, logger: silentLogger, qr: null });
  const other = new OtherProcess(s.store.db.name);
  cleanup.push(() => other.close());
  return { ...s, clock, pulses, metrics, recent, audit, recorder, pipeline, other };
}

describe('a write lock held by another process', () => {
  it('a lock held for a moment (the upstream thread writing) is retried without a warning; a long one warns once', async () => {
    const lines: string[] = [];
    const ctx = await setup(100_000, createLogger('info', { write: (l: string) => void lines.push(l) }));
    const said = (text: string) => lines.filter((l) => l.includes(text)).length;
    await ctx.other.lock();
    ctx.pipeline.onLine(front, '7340861');
    ctx.clock.advance(RECORD_DELAY_MS); // first attempt meets the lock
    await ctx.other.release();
    ctx.clock.advance(100); // the retry gets through
    expect(ctx.recorder.auditBacklog().queued).toBe(0);
    expect(said('cannot be written now')).toBe(0);
    expect(said('writable again')).toBe(0);

    await ctx.other.lock();
    ctx.pipeline.onLine(front, '7340861');
    ctx.clock.advance(RECORD_DELAY_MS);
    for (let i = 0; i < 10; i++) ctx.clock.advance(1000);
    expect(said('cannot be written now')).toBe(1);
    await ctx.other.release();
    ctx.clock.advance(3000);
    expect(ctx.recorder.auditBacklog().queued).toBe(0);
    expect(said('writable again')).toBe(1);
  });

  it('delays no decision, queues the audit rows, writes all of them once the lock frees', async () => {
    const ctx = await setup(100_000);
    await ctx.other.lock();
    for (let i = 0; i < 20; i++) ctx.pipeline.onLine(front, i % 2 === 0 ? '7340861' : '42');
    // Every granted read pulsed synchronously, in order, while the lock was held.
    expect(ctx.pulses).toHaveLength(10);
    ctx.clock.advance(RECORD_DELAY_MS);
    // The bookkeeping that needs no lock happened; the rows wait in memory.
    expect(ctx.recent.list()).toHaveLength(20);
    expect(ctx.recorder.auditBacklog().queued).toBe(20);
    // WAL: reads never wait for the writer's lock.
    expect(ctx.audit.recent()).toHaveLength(0);
    expect(ctx.store.db.prepare('SELECT count(*) AS n FROM people').get()).toEqual({ n: 1 });
    ctx.clock.advance(5_000); // retries meet the lock again: nothing lost, nothing thrown
    expect(ctx.recorder.auditBacklog().queued).toBe(20);

    await ctx.other.release();
    ctx.clock.advance(5_000);
    expect(ctx.recorder.auditBacklog().queued).toBe(0);
    const rows = ctx.audit.recent(100).reverse();
    expect(rows).toHaveLength(20);
    expect(rows.map((r) => r.result)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'granted' : 'denied')));
    expect(await ctx.metrics.text()).toContain('lintel_audit_rows_dropped_total 0');
  });

  it('beyond the cap rows are dropped and counted; what fit is written', async () => {
    const ctx = await setup(15);
    await ctx.other.lock();
    for (let i = 0; i < 20; i++) ctx.pipeline.onLine(front, '42');
    ctx.clock.advance(RECORD_DELAY_MS);
    expect(ctx.recorder.auditBacklog().queued).toBe(15);
    expect(ctx.recent.list()).toHaveLength(20);
    expect(await ctx.metrics.text()).toContain('lintel_audit_rows_dropped_total 5');
    await ctx.other.release();
    ctx.clock.advance(5_000);
    expect(ctx.audit.recent(100)).toHaveLength(15);
    expect(await ctx.metrics.text()).toContain('lintel_audit_rows_queued 0');
  });
});

describe('shutdown with rows waiting for the lock', () => {
  it('flush() writes the waiting rows at once when the lock has freed, without waiting for the retry', async () => {
    const ctx = await setup(100_000);
    await ctx.other.lock();
    for (let i = 0; i < 3; i++) ctx.pipeline.onLine(front, '42');
    ctx.clock.advance(RECORD_DELAY_MS);
    expect(ctx.recorder.auditBacklog().queued).toBe(3);
    await ctx.other.release();
    ctx.recorder.flush(); // no clock advance: the retry timer has not fired
    expect(ctx.audit.recent(10)).toHaveLength(3);
    expect(ctx.recorder.auditBacklog().queued).toBe(0);
  });
});
