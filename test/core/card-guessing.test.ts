import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessIndex } from '../../src/access/access-index.js';
import { FailureGuard } from '../../src/access/failure-guard.js';
import { configSchema, type ReaderConfig } from '../../src/config/schema.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder, RECORD_DELAY_MS } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { encodeWiegand } from '../../src/readers/card-formats.js';
import { AuditLog } from '../../src/store/audit.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { loadIndex } from '../../src/store/index-loader.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testStore } from '../helpers/store.js';

/** The real index, counting the card lookups the pipeline makes (to show a locked reader makes none). */
class CountingIndex extends AccessIndex {
  lookups = 0;
  override activeCardRecord(number: string): number {
    this.lookups++;
    return super.activeCardRecord(number);
  }
}

const H = 3600_000;
const FC = 123;
const ANA_CN = 45678;

function wiegandReader(id: string): ReaderConfig {
  return { id, kind: 'stdin', door: 'front', direction: 'in', cardFormat: 'wiegand26', payload: 'card', maxLineLength: 256 };
}

function setup() {
  const s = testStore(['front']);
  const clock = new FakeClock();
  const t0 = clock.now();
  s.store.transact((tx) => {
    const ana = upsertPerson(tx, 'ana@example.com', 'Ana', t0);
    assignCredential(tx, ana, String(FC * 65536 + ANA_CN), 'wiegand26', 'active', t0);
    replaceSourceGrants(tx, 'staff', 'import:ana', [{ personId: ana, doorId: 'front', validFrom: t0 - H, validTo: t0 + H }]);
  });
  const index = new CountingIndex();
  loadIndex(s.store.db, index);
  const lines: string[] = [];
  const logger = createLogger('warn', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
  const limits = configSchema.parse({ site: { id: 'hq' }, doors: [{ id: 'front' }] }).bruteForce.cards;
  const cardGuard = new FailureGuard(limits, logger);
  const pulses: string[] = [];
  const recent = new RecentDecisions(2000);
  const recorder = new DecisionRecorder({ audit: new AuditLog(s.store.db), clock, logger: silentLogger, metrics: new Metrics(), recent });
  const pipeline = new BadgePipeline({
    index,
    relay: { pulse: (door) => (pulses.push(door), { status: 'sent' }) },
    recorder,
    clock,
    logger: silentLogger,
    qr: null,
    cardGuard,
  });
  return { ...s, clock, index, pipeline, pulses, recent, lines, cardGuard, limits };
}

let ctx: ReturnType<typeof setup>;
afterEach(() => ctx.close());

describe('card guessing on one reader', () => {
  it('defaults: 10 unknown cards in 10 s lock that reader for 30 s', () => {
    ctx = setup();
    expect(ctx.limits).toEqual({ maxFailures: 10, windowSec: 10, lockoutSec: 30 });
  });

  it('1,000 Wiegand guesses in under a second: refused rate_limited after the threshold without an index lookup; other readers unaffected', () => {
    ctx = setup();
    const attacked = wiegandReader('gate-a');
    const other = wiegandReader('gate-b');
    const anaFrame = encodeWiegand('wiegand26', FC, ANA_CN);
    for (let i = 0; i < 1000; i++) {
      // Well-formed frames with valid parity, every card number but Ana's (a guesser's sweep).
      const cn = (ANA_CN + 1 + i) % 65536;
      ctx.pipeline.onLine(attacked, encodeWiegand('wiegand26', FC, cn));
      ctx.clock.advance(0.5); // 1,000 reads in 500 ms
    }
    expect(ctx.index.lookups).toBe(10);
    // Ana's real card on the locked reader is refused too; on another reader it opens at once.
    ctx.pipeline.onLine(attacked, anaFrame);
    ctx.pipeline.onLine(other, anaFrame);
    expect(ctx.pulses).toEqual(['front']);
    ctx.clock.advance(RECORD_DELAY_MS);
    const decisions = ctx.recent.list().reverse();
    const onA = decisions.filter((d) => d.readerId === 'gate-a').map((d) => d.reason);
    expect(onA.slice(0, 10)).toEqual(Array(10).fill('unknown_credential'));
    expect(onA.slice(10)).toEqual(Array(991).fill('rate_limited'));
    expect(decisions.find((d) => d.readerId === 'gate-b')).toMatchObject({ result: 'granted' });
    // Logged once, and an alarm while the lock lasts.
    expect(ctx.lines.filter((l) => l.includes('reader locked'))).toHaveLength(1);
    expect(ctx.cardGuard.locks(ctx.clock.now())).toEqual([{ readerId: 'gate-a', until: expect.any(Number) }]);
    // 30 s after the lock the reader decides again.
    ctx.clock.advance(30_000);
    expect(ctx.cardGuard.locks(ctx.clock.now())).toEqual([]);
    ctx.pipeline.onLine(attacked, anaFrame);
    expect(ctx.pulses).toEqual(['front', 'front']);
  });

  it('bad parity and malformed reads count as unknown credentials; a granted read clears the count', () => {
    ctx = setup();
    const r = wiegandReader('gate-a');
    for (let i = 0; i < 9; i++) ctx.pipeline.onLine(r, i % 2 ? '3FFFFFF' : 'zz');
    ctx.pipeline.onLine(r, encodeWiegand('wiegand26', FC, ANA_CN));
    for (let i = 0; i < 9; i++) ctx.pipeline.onLine(r, 'zz');
    expect(ctx.cardGuard.locks(ctx.clock.now())).toEqual([]);
    ctx.pipeline.onLine(r, 'zz');
    expect(ctx.cardGuard.locks(ctx.clock.now())).toHaveLength(1);
  });
});
