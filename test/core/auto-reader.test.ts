import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CARD_FORMATS } from '../../src/config/schema.js';
import { FailureGuard } from '../../src/access/failure-guard.js';
import { configSchema, type CardFormat, type ReaderConfig } from '../../src/config/schema.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder, RECORD_DELAY_MS } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { QrAccess } from '../../src/qr/qr-access.js';
import { AuditLog } from '../../src/store/audit.js';
import type { VisitLookup, VisitVerifier } from '../../src/upstream/visit-lookup.js';
import { silentLogger } from '../../src/util/log.js';
import { VisitorGate } from '../../src/visitors/visitor-gate.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testStore } from '../helpers/store.js';

/*
 * An `auto` reader (a reception scanner that reads cards and QR codes) tries its card format
 * first. A card number in another notation than the configured one (a hex UID on a decimal
 * reader, a frame too wide for wiegand26) failed that parse as malformed and was then
 * classified as a QR payload, where upper-case hex is a well-formed visitor code: the card
 * number went to the booking platform's receptionist API.
 */

class RecordingVerifier implements VisitVerifier {
  codes: string[] = [];
  verifyVisit(code: string): Promise<VisitLookup> {
    this.codes.push(code);
    return Promise.resolve({ kind: 'unknown' });
  }
}

function autoReader(cardFormat: CardFormat): ReaderConfig {
  return { id: `scan-${cardFormat}`, kind: 'stdin', door: 'lobby', direction: 'in', cardFormat, payload: 'auto', maxLineLength: 256 };
}

describe('auto reader: a card number never reaches the platform as a visitor code', () => {
  let ctx: ReturnType<typeof testStore>;
  let clock: FakeClock;
  let verifier: RecordingVerifier;
  let recent: RecentDecisions;
  let pipeline: BadgePipeline;

  beforeEach(() => {
    ctx = testStore(['lobby']);
    clock = new FakeClock();
    verifier = new RecordingVerifier();
    recent = new RecentDecisions(200);
    const cfg = configSchema.parse({ site: { id: 'hq' }, doors: [{ id: 'lobby', visitors: true }], bruteForce: { maxFailures: 1000 } });
    const visitorGate = new VisitorGate({
      verifier,
      db: ctx.store.db,
      config: cfg.visitors,
      doors: cfg.doors,
      deviceId: 'lintel-hq',
      clock,
      logger: silentLogger,
    });
    const qr = new QrAccess({ index: ctx.index, key: Buffer.alloc(32, 1), visitorGate, guard: new FailureGuard(cfg.bruteForce), clock });
    const recorder = new DecisionRecorder({ audit: new AuditLog(ctx.store.db), clock, logger: silentLogger, metrics: new Metrics(), recent });
    pipeline = new BadgePipeline({ index: ctx.index, relay: { pulse: () => ({ status: 'sent' }) }, recorder, clock, logger: silentLogger, qr });
  });
  afterEach(() => ctx.close());

  const flush = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
    clock.advance(RECORD_DELAY_MS);
  };

  it('hex UIDs, hex frames and long decimals are decided locally as card reads', async () => {
    const cases: Array<[CardFormat, string]> = [
      ['decimal', '04A22B1A'],
      ['decimal', '04a22b1a'],
      ['decimal', '0x04A22B1A'],
      ['decimal', '04-A2-2B-1A'],
      ['decimal', 'DEADBEEF'],
      ['decimal', '1234567890123456789012345'], // 25 digits: too long for decimal, still a number
      ['hex-lsb', '4A22B1A'], // odd digit count: not a whole-byte UID, still hex
      ['wiegand26', '1FFFFFFFF'], // a 34-bit frame on a 26-bit reader
      ['wiegand26', '2F764DD '], // the same reader's valid frame, for contrast: decided as a card
    ];
    for (const [format, line] of cases) pipeline.onLine(autoReader(format), line);
    await flush();
    expect(verifier.codes).toEqual([]);
    const kinds = recent.list().map((e) => e.kind);
    expect(kinds).toEqual(cases.map(() => 'card'));
  });

  it('property: no hex or decimal card number in any notation, on an auto reader of any format, reaches the platform', async () => {
    const hexByte = fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).padStart(2, '0'));
    const notation = fc.oneof(
      fc.stringMatching(/^[0-9A-Fa-f]{1,32}$/),
      fc.stringMatching(/^0[xX][0-9A-Fa-f]{1,30}$/),
      fc.tuple(fc.array(hexByte, { minLength: 2, maxLength: 10 }), fc.constantFrom(':', '-', ' ')).map(([bytes, sep]) => bytes.join(sep)),
      fc.stringMatching(/^[0-9]{1,32}$/),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CARD_FORMATS), notation, async (format, line) => {
        const before = verifier.codes.length;
        pipeline.onLine(autoReader(format), line);
        await flush();
        clock.advance(60_000); // past any lookup or lockout
        return verifier.codes.length === before;
      }),
      { numRuns: 300 },
    );
  });

  it('a visitor code with letters outside hex still goes to the platform', async () => {
    pipeline.onLine(autoReader('decimal'), 'V7K2-99QX');
    await flush();
    expect(verifier.codes).toEqual(['V7K2-99QX']);
    expect(recent.list()[0]).toMatchObject({ kind: 'visitor-qr', reason: 'visit_unknown' });
  });
});
