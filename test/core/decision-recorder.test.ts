import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/metrics.js';
import { DecisionRecorder, RECORD_DELAY_MS, type RecordedDecision } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { AuditLog } from '../../src/store/audit.js';
import { createLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testStore } from '../helpers/store.js';

function decision(over: Partial<RecordedDecision> = {}): RecordedDecision {
  return {
    at: Date.parse('2026-11-22T10:00:00Z'),
    readerId: 'r1',
    doorId: 'front',
    credential: '****0861',
    personId: null,
    kind: 'card',
    result: 'denied',
    reason: 'unknown_credential',
    relay: 'none',
    ...over,
  };
}

function setup() {
  const s = testStore(['front']);
  const clock = new FakeClock();
  const lines: Array<Record<string, unknown>> = [];
  const writes: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString());
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const metrics = new Metrics();
  const recent = new RecentDecisions();
  const audit = new AuditLog(s.store.db);
  const recorder = new DecisionRecorder({ audit, clock, logger: createLogger('info', sink), metrics, recent });
  return { ...s, clock, lines, writes, metrics, recent, audit, recorder };
}

let ctx: ReturnType<typeof setup>;
afterEach(() => ctx.close());

describe('DecisionRecorder', () => {
  it('holds bookkeeping back until after the unlock, then writes the burst in one go', async () => {
    ctx = setup();
    const seen: string[] = [];
    ctx.recorder.onDecision((e) => seen.push(e.reason));
    ctx.recorder.record(decision());
    ctx.recorder.record(decision({ personId: 7, result: 'granted', reason: 'granted', relay: 'sent', credential: '****1001' }));
    expect(ctx.audit.recent()).toHaveLength(0);
    expect(ctx.recent.list()).toHaveLength(0);
    expect(ctx.clock.pending()).toBe(1); // one timer for the burst, not one per decision

    ctx.clock.advance(RECORD_DELAY_MS);
    const rows = ctx.audit.recent();
    expect(rows.map((r) => [r.credential, r.result, r.reason, r.relay, r.person_id])).toEqual([
      ['****1001', 'granted', 'granted', 'sent', 7],
      ['****0861', 'denied', 'unknown_credential', 'none', null],
    ]);
    expect(seen).toEqual(['unknown_credential', 'granted']);
    expect(ctx.recent.list().map((e) => e.reason)).toEqual(['granted', 'unknown_credential']);
    const text = await ctx.metrics.text();
    expect(text).toContain('lintel_decisions_total{result="granted",reason="granted"} 1');
    expect(text).toContain('lintel_decisions_total{result="denied",reason="unknown_credential"} 1');
    await new Promise((r) => setImmediate(r));
    expect(ctx.lines.filter((l) => l.msg === 'decision').map((l) => l.credential)).toEqual(['****0861', '****1001']);
  });

  it('flush() writes what is queued at once (shutdown) and leaves no timer behind', () => {
    ctx = setup();
    ctx.recorder.record(decision({ relay: 'unreachable', result: 'granted', reason: 'granted' }));
    ctx.recorder.flush();
    expect(ctx.audit.recent()).toHaveLength(1);
    expect(ctx.clock.pending()).toBe(0);
    ctx.clock.advance(RECORD_DELAY_MS);
    expect(ctx.audit.recent()).toHaveLength(1);
  });

  it('counts unlocks the broker could not take', async () => {
    ctx = setup();
    ctx.recorder.record(decision({ relay: 'unreachable', result: 'granted', reason: 'granted' }));
    ctx.clock.advance(RECORD_DELAY_MS);
    expect(await ctx.metrics.text()).toContain('lintel_relay_unreachable_total 1');
  });

  it('a failed audit write is logged, the rest of the bookkeeping still happens, and the next batch is written', async () => {
    ctx = setup();
    // A row the schema refuses (result is constrained) makes the whole batch roll back.
    ctx.recorder.record(decision({ result: 'maybe' as 'granted' }));
    ctx.recorder.record(decision());
    ctx.clock.advance(RECORD_DELAY_MS);
    expect(ctx.audit.recent()).toHaveLength(0);
    expect(ctx.recent.list()).toHaveLength(2);
    await new Promise((r) => setImmediate(r));
    expect(ctx.lines.find((l) => l.msg === 'audit rows could not be written')).toMatchObject({ rows: 2 });

    ctx.recorder.record(decision());
    ctx.clock.advance(RECORD_DELAY_MS);
    expect(ctx.audit.recent()).toHaveLength(1);
  });

  it("a burst's log lines leave in one write, each line with the fields it always had", async () => {
    ctx = setup();
    ctx.recorder.record(decision());
    ctx.recorder.record(decision({ personId: 7, result: 'granted', reason: 'granted', relay: 'sent', source: 'staff', event: 'antipassback_soft' }));
    ctx.recorder.record(decision({ credential: '****0862' }));
    ctx.clock.advance(RECORD_DELAY_MS);
    await new Promise((r) => setImmediate(r));
    expect(ctx.writes).toHaveLength(1);
    const decisions = ctx.lines.filter((l) => l.msg === 'decision');
    expect(decisions.map((l) => Object.keys(l))).toEqual([
      ['level', 'time', 'reader', 'door', 'credential', 'kind', 'result', 'reason', 'relay', 'msg'],
      ['level', 'time', 'reader', 'door', 'credential', 'kind', 'result', 'reason', 'relay', 'source', 'event', 'msg'],
      ['level', 'time', 'reader', 'door', 'credential', 'kind', 'result', 'reason', 'relay', 'msg'],
    ]);
    expect(decisions[1]).toMatchObject({ reader: 'r1', door: 'front', credential: '****0861', kind: 'card', result: 'granted', reason: 'granted', relay: 'sent', source: 'staff', event: 'antipassback_soft' });
    expect(decisions[2]).toMatchObject({ credential: '****0862', result: 'denied', reason: 'unknown_credential', relay: 'none' });
  });
});
