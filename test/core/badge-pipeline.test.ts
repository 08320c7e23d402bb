import { afterEach, describe, expect, it } from 'vitest';
import type { ReaderConfig } from '../../src/config/schema.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder, RECORD_DELAY_MS } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { AuditLog } from '../../src/store/audit.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testStore } from '../helpers/store.js';

const H = 3600_000;

function reader(id: string, door: string): ReaderConfig {
  return { id, kind: 'stdin', door, direction: 'in', cardFormat: 'decimal', payload: 'card', maxLineLength: 256 };
}

function setup() {
  const s = testStore(['front', 'lab']);
  const clock = new FakeClock();
  const t0 = clock.now();
  const [ana, bo] = s.store.transact((tx) => {
    const a = upsertPerson(tx, 'ana@example.com', 'Ana', t0);
    const b = upsertPerson(tx, 'bo@example.com', 'Bo', t0);
    assignCredential(tx, a, '7340861', 'decimal', 'active', t0);
    assignCredential(tx, b, '5550123', 'decimal', 'lost', t0);
    replaceSourceGrants(tx, 'staff', 'import:ana', [{ personId: a, doorId: 'front', validFrom: t0 - H, validTo: t0 + H }]);
    return [a, b];
  });
  const pulses: string[] = [];
  const recent = new RecentDecisions();
  const recorder = new DecisionRecorder({ audit: new AuditLog(s.store.db), clock, logger: silentLogger, metrics: new Metrics(), recent });
  const relay = { pulse: (door: string) => (pulses.push(door), { status: 'sent' as const }) };
  const pipeline = new BadgePipeline({ index: s.index, relay, recorder, clock, logger: silentLogger, qr: null });
  return { ...s, clock, pulses, recent, pipeline, ana: ana!, bo: bo! };
}

let ctx: ReturnType<typeof setup>;
afterEach(() => ctx.close());

describe('BadgePipeline', () => {
  it('a burst of reads recorded before the flush keeps each read its own outcome', () => {
    ctx = setup();
    const front = reader('r-front', 'front');
    const lab = reader('r-lab', 'lab');
    // All four decisions are queued in the recorder before it writes: each must be its own copy.
    ctx.pipeline.onLine(front, '7340861');
    ctx.pipeline.onLine(lab, '7340861');
    ctx.pipeline.onLine(front, '5550123');
    ctx.pipeline.onLine(front, '42');
    ctx.pipeline.onLine(front, '12ab');
    expect(ctx.pulses).toEqual(['front']); // only the granted read pulsed, at once
    ctx.clock.advance(RECORD_DELAY_MS);
    const seen = ctx.recent.list().reverse().map((e) => [e.readerId, e.result, e.reason, e.credential]);
    expect(seen).toEqual([
      ['r-front', 'granted', 'granted', '*****61'],
      ['r-lab', 'denied', 'no_grant', '*****61'],
      ['r-front', 'denied', 'credential_lost', '*****23'],
      ['r-front', 'denied', 'unknown_credential', '**'],
      ['r-front', 'denied', 'malformed_read', '**ab'],
    ]);
    const people = ctx.store.db.prepare('SELECT person_id FROM audit ORDER BY id').all() as { person_id: number | null }[];
    expect(people.map((r) => r.person_id)).toEqual([ctx.ana, ctx.ana, ctx.bo, null, null]);
  });
});
