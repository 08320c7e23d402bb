import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReaderConfig } from '../../src/config/schema.js';
import type { AcknowledgeOutcome, AlarmChange, AlarmKind, AlarmSource, DoorAlarm } from '../../src/doors/alarm-types.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder, RECORD_DELAY_MS } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { StreamLineReader } from '../../src/readers/line-reader.js';
import { AuditLog } from '../../src/store/audit.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { assignCredential, upsertPerson } from '../../src/store/people.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { parsePromText, promValue } from '../helpers/prom-text.js';
import { testStore } from '../helpers/store.js';

/* The gateway's own families (metrics.ts, metrics-sources.ts), read as a scrape reads them. */

const H = 3600_000;
const reader: ReaderConfig = { id: 'r-front', kind: 'stdin', door: 'front', direction: 'in', cardFormat: 'decimal', payload: 'card', maxLineLength: 16 };

/** One sample, as a scrape of the registry reads it. */
async function sample(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return promValue(parsePromText(await metrics.text()), name, labels);
}

/** A door-alarm list of the kind the alarms part keeps: raised, acknowledged, cleared, gone when both. */
class AlarmBook implements AlarmSource {
  private readonly alarms = new Map<string, DoorAlarm>();
  private readonly listeners = new Set<(c: AlarmChange) => void>();

  raise(door: string, kind: AlarmKind, at: number): DoorAlarm {
    const alarm: DoorAlarm = { id: `${door}:${kind}:${at}`, door, kind, raisedAt: at, acknowledgedAt: null, acknowledgedBy: null, clearedAt: null };
    this.alarms.set(alarm.id, alarm);
    this.tell({ change: 'raised', alarm });
    return alarm;
  }

  clear(id: string, at: number): void {
    const a = this.alarms.get(id);
    if (a) this.settle({ ...a, clearedAt: at }, 'cleared');
  }

  active(): DoorAlarm[] {
    return [...this.alarms.values()].sort((a, b) => a.raisedAt - b.raisedAt);
  }

  onChange(listener: (c: AlarmChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  acknowledge(id: string, by: string, now: number): AcknowledgeOutcome {
    const a = this.alarms.get(id);
    if (!a) return { status: 'not_found' };
    if (a.acknowledgedAt !== null) return { status: 'already', alarm: a };
    const alarm = { ...a, acknowledgedAt: now, acknowledgedBy: by };
    this.settle(alarm, 'acknowledged');
    return { status: 'acknowledged', alarm };
  }

  private settle(alarm: DoorAlarm, change: AlarmChange['change']): void {
    if (alarm.acknowledgedAt !== null && alarm.clearedAt !== null) this.alarms.delete(alarm.id);
    else this.alarms.set(alarm.id, alarm);
    this.tell({ change, alarm });
  }

  private tell(c: AlarmChange): void {
    for (const l of this.listeners) l(c);
  }
}

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

describe('metrics', () => {
  it('turns the badge path\'s marks into decision and swipe-to-publish observations at the flush, not before', async () => {
    const s = testStore(['front']);
    closers.push(() => s.close());
    const clock = new FakeClock();
    const t0 = clock.now();
    s.store.transact((tx) => {
      const ana = upsertPerson(tx, 'ana@example.com', 'Ana', t0);
      assignCredential(tx, ana, '7340861', 'decimal', 'active', t0);
      replaceSourceGrants(tx, 'staff', 'import:ana', [{ personId: ana, doorId: 'front', validFrom: t0 - H, validTo: t0 + H }]);
    });
    // A manual high-resolution clock: each mark moves it 0.25 ms, the publish 1 ms more.
    let hr = 100;
    const hrNow = () => (hr += 0.25);
    const metrics = new Metrics();
    const recorder = new DecisionRecorder({ audit: new AuditLog(s.store.db), clock, logger: silentLogger, metrics, recent: new RecentDecisions() });
    const relay = { pulse: () => ((hr += 1), { status: 'sent' as const }) };
    const pipeline = new BadgePipeline({ index: s.index, relay, recorder, clock, logger: silentLogger, qr: null, hrNow });

    pipeline.onLine(reader, '7340861'); // granted: read 100.25, decided 100.5, published 101.75
    pipeline.onLine(reader, '999'); // unknown: read 102, decided 102.25, nothing published
    expect(await sample(metrics, 'lintel_decision_latency_seconds_count', { kind: 'card' })).toBeUndefined();
    clock.advance(RECORD_DELAY_MS);

    expect(await sample(metrics, 'lintel_decision_latency_seconds_count', { kind: 'card' })).toBe(2);
    expect(await sample(metrics, 'lintel_decision_latency_seconds_sum', { kind: 'card' })).toBeCloseTo(0.0005, 9);
    expect(await sample(metrics, 'lintel_swipe_to_publish_seconds_count')).toBe(1);
    expect(await sample(metrics, 'lintel_swipe_to_publish_seconds_sum')).toBeCloseTo(0.0015, 9);
    expect(await sample(metrics, 'lintel_decisions_total', { result: 'granted', reason: 'granted' })).toBe(1);
  });

  it('door alarms by door and kind from an AlarmSource; a series stays at 0 once its alarm is gone', async () => {
    const metrics = new Metrics();
    const book = new AlarmBook();
    metrics.watchAlarms(book);
    const held = book.raise('front', 'held_open', 1000);
    book.raise('lab', 'forced_open', 2000);
    book.raise('lab', 'forced_open', 3000);
    expect(await sample(metrics, 'lintel_door_alarms', { door: 'front', kind: 'held_open' })).toBe(1);
    expect(await sample(metrics, 'lintel_door_alarms', { door: 'lab', kind: 'forced_open' })).toBe(2);

    expect(book.acknowledge(held.id, 'olga', 4000).status).toBe('acknowledged');
    expect(await sample(metrics, 'lintel_door_alarms', { door: 'front', kind: 'held_open' })).toBe(1); // acknowledged, door still open
    book.clear(held.id, 5000);
    expect(await sample(metrics, 'lintel_door_alarms', { door: 'front', kind: 'held_open' })).toBe(0);
    expect(await metrics.text()).toContain('lintel_door_alarms{door="front",kind="held_open"} 0');
  });

  it('reader lines, drops by why and errors from the readers\' own counters, at each scrape', async () => {
    const metrics = new Metrics();
    const input = new PassThrough();
    const lines: string[] = [];
    const r = new StreamLineReader({ config: { ...reader, kind: 'stdin' }, onLine: (l) => lines.push(l), clock: new FakeClock(), logger: silentLogger, input });
    metrics.watchReaders(() => [r]);
    await r.start();
    closers.push(() => void r.stop());
    const delivered = new Promise<void>((resolve) => input.once('end', resolve));
    input.end(`7340861\n${'1'.repeat(40)}\n123\n`);
    await delivered;
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual(['7340861', '123']);
    expect(await sample(metrics, 'lintel_reader_lines_total', { reader: 'r-front' })).toBe(2);
    expect(await sample(metrics, 'lintel_reader_dropped_lines_total', { reader: 'r-front', why: 'overlong' })).toBe(1);
    expect(await sample(metrics, 'lintel_reader_dropped_lines_total', { reader: 'r-front', why: 'garbage' })).toBe(0);
    expect(await sample(metrics, 'lintel_reader_errors_total', { reader: 'r-front' })).toBe(0);
  });

  it('build info always; process metrics only on the registry that asked for them', async () => {
    const plain = await new Metrics({ version: '9.9.9' }).text();
    expect(plain).toContain(`lintel_build_info{version="9.9.9",node="${process.versions.node}"} 1`);
    expect(plain).not.toContain('process_cpu_user_seconds_total');
    const full = await new Metrics({ processMetrics: true }).text();
    expect(full).toContain('process_cpu_user_seconds_total');
    expect(full).toContain('nodejs_eventloop_lag_p99_seconds');
  });
});
