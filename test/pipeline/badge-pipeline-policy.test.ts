import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyContext, SiteState } from '../../src/access/decide.js';
import type { ReaderConfig } from '../../src/config/schema.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder, RECORD_DELAY_MS, type RecordedDecision } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { AuditLog } from '../../src/store/audit.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testStore } from '../helpers/store.js';

/*
 * The pipeline only calls the core: the site state it is given (lockdown) and the hooks decide
 * with it, the reader's id reaches anti-passback, and what the core said (source, event) is
 * what gets recorded. Real SQLite store and index, injected clock.
 */

const H = 3600_000;
const reader = (id: string, door: string): ReaderConfig => ({ id, kind: 'stdin', door, direction: 'in', cardFormat: 'decimal', payload: 'card', maxLineLength: 256 });

let close: () => void = () => {};
afterEach(() => close());

function setup(policy: PolicyContext) {
  const s = testStore(['front']);
  close = s.close;
  const clock = new FakeClock();
  const t0 = clock.now();
  s.store.transact((tx) => {
    const ana = upsertPerson(tx, 'ana@example.com', 'Ana', t0);
    assignCredential(tx, ana, '7340861', 'decimal', 'active', t0);
    replaceSourceGrants(tx, 'staff', 'import:ana', [{ personId: ana, doorId: 'front', validFrom: t0 - H, validTo: t0 + H }]);
  });
  const pulses: string[] = [];
  const rows: RecordedDecision[] = [];
  const recorder = new DecisionRecorder({ audit: new AuditLog(s.store.db), clock, logger: silentLogger, metrics: new Metrics(), recent: new RecentDecisions() });
  const recording = { onDecision: recorder.onDecision.bind(recorder), record: (d: RecordedDecision) => (rows.push(d), recorder.record(d)) };
  const relay = { pulse: (door: string) => (pulses.push(door), { status: 'sent' as const }) };
  const pipeline = new BadgePipeline({ index: s.index, relay, recorder: recording, clock, logger: silentLogger, qr: null, policy });
  return { pipeline, pulses, rows, clock };
}

describe('BadgePipeline with a policy context', () => {
  it('lockdown owned by the caller denies without a pulse, and lifting it opens again', () => {
    const site: SiteState = { lockdown: true };
    const t = setup({ site });
    t.pipeline.onLine(reader('r1', 'front'), '7340861');
    site.lockdown = false;
    t.pipeline.onLine(reader('r1', 'front'), '7340861');
    expect(t.pulses).toEqual(['front']);
    expect(t.rows.map((r) => [r.result, r.reason])).toEqual([
      ['denied', 'lockdown'],
      ['granted', 'granted'],
    ]);
    t.clock.advance(RECORD_DELAY_MS);
  });

  it('anti-passback hears the reader; soft grants with the event recorded, hard denies', () => {
    const readers: string[] = [];
    const t = setup({
      site: { lockdown: false },
      antiPassback: { check: (_person, readerId) => (readers.push(readerId), readerId === 'r-hard' ? 'hard' : 'soft') },
    });
    t.pipeline.onLine(reader('r-soft', 'front'), '7340861');
    t.pipeline.onLine(reader('r-hard', 'front'), '7340861');
    expect(readers).toEqual(['r-soft', 'r-hard']);
    expect(t.pulses).toEqual(['front']);
    expect(t.rows.map((r) => [r.readerId, r.reason, r.event ?? null])).toEqual([
      ['r-soft', 'granted', 'antipassback_soft'],
      ['r-hard', 'antipassback', null],
    ]);
    t.clock.advance(RECORD_DELAY_MS);
  });
});
