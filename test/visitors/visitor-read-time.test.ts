import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureGuard } from '../../src/access/failure-guard.js';
import { configSchema, type ReaderConfig } from '../../src/config/schema.js';
import { DoorRelay } from '../../src/doors/door-relay.js';
import { topics } from '../../src/doors/protocol.js';
import { Metrics } from '../../src/metrics.js';
import { BadgePipeline } from '../../src/pipeline/badge-pipeline.js';
import { DecisionRecorder, RECORD_DELAY_MS } from '../../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../../src/pipeline/recent-decisions.js';
import { QrAccess } from '../../src/qr/qr-access.js';
import { AuditLog } from '../../src/store/audit.js';
import { UpstreamClient } from '../../src/upstream/client.js';
import { UpstreamHealth } from '../../src/upstream/health.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { VisitorGate } from '../../src/visitors/visitor-gate.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { testStore } from '../helpers/store.js';
import { door, mqttConfig, Observer, PREFIX } from '../doors/fixtures.js';
import { VisitServer } from './visit-server.js';

/*
 * "A read must be decided with the time it was read, and a command never carries a lifetime
 * longer than what is left of its window" (issue 10), on the one path where the decision waits:
 * a visitor code answered by the platform (real loopback HTTP, delayed on purpose) and pulsed
 * through the real DoorRelay over Mosquitto, watched on the wire.
 */

const TTL_MS = 600;
const SITE = 'readtime';
const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let broker: TestBroker;
let server: VisitServer;
let observer: Observer;
let relay: DoorRelay;
let site: ReturnType<typeof testStore>;
let pipeline: BadgePipeline;
let recent: RecentDecisions;
const cmdTopic = topics(PREFIX, SITE).cmd('gate');
const reader: ReaderConfig = { id: 'r-gate', kind: 'stdin', door: 'gate', direction: 'in', cardFormat: 'decimal', payload: 'qr', maxLineLength: 256 };

beforeAll(async () => {
  broker = await startTestBroker();
  server = await VisitServer.start();
  site = testStore(['gate']);
  const cfg = configSchema.parse({ site: { id: SITE }, doors: [{ id: 'gate', visitors: true }], visitors: { verifyTimeoutMs: 2000 } });
  const gate = new VisitorGate({
    verifier: new UpstreamClient({ baseUrl: server.baseUrl, token: 'test-token', requestTimeoutMs: 10_000, clock: systemClock, health: new UpstreamHealth(systemClock, true) }),
    db: site.store.db,
    config: cfg.visitors,
    doors: cfg.doors,
    deviceId: 'gate-1',
    clock: systemClock,
    logger: silentLogger,
  });
  relay = new DoorRelay({ mqtt: mqttConfig(broker.url), siteId: SITE, doors: [door('gate', { commandTtlMs: TTL_MS, visitors: true })], clock: systemClock, logger: silentLogger });
  await relay.start();
  observer = await Observer.connect(broker.url);
  await observer.subscribe(cmdTopic);
  recent = new RecentDecisions();
  const recorder = new DecisionRecorder({ audit: new AuditLog(site.store.db), clock: systemClock, logger: silentLogger, metrics: new Metrics(), recent });
  const qr = new QrAccess({ index: site.index, key: Buffer.alloc(32, 7), visitorGate: gate, guard: new FailureGuard(cfg.bruteForce), clock: systemClock });
  pipeline = new BadgePipeline({ index: site.index, relay, recorder, clock: systemClock, logger: silentLogger, qr });
});

afterAll(async () => {
  await observer?.client.endAsync();
  await relay?.stop();
  await server?.close();
  site?.close();
  await broker?.stop();
});

/** Reads `code`, waits until the platform has answered and the decision is recorded. */
async function read(code: string, answerMs: number): Promise<{ readAt: number; answeredBy: number; relay: string; reason: string }> {
  server.delayMs = answerMs;
  const before = recent.list().length;
  const t0 = Date.now();
  pipeline.onLine(reader, code);
  const readBy = Date.now();
  for (let i = 0; i < 400 && recent.list().length === before; i++) await sleep(RECORD_DELAY_MS + 5);
  const e = recent.list()[0]!;
  expect(e.at).toBeGreaterThanOrEqual(t0);
  expect(e.at).toBeLessThanOrEqual(readBy); // the audit row is dated by the read, not the answer
  return { readAt: e.at, answeredBy: Date.now(), relay: e.relay, reason: e.reason };
}

describe('a visitor code answered late', () => {
  it('is pulsed with expiresAt = read time + commandTtlMs, not answer time + commandTtlMs', async () => {
    const now = Date.now();
    server.visits.set('AAAA-1111', { visitId: 'VIS-1', status: 'checked_in', validFrom: iso(now - 3600_000), validTo: iso(now + 3600_000) });
    const packets = observer.on(cmdTopic).length;
    const r = await read('AAAA-1111', 250);
    expect(r).toMatchObject({ relay: 'sent', reason: 'granted' });
    for (let i = 0; i < 100 && observer.on(cmdTopic).length === packets; i++) await sleep(10);
    const cmd = observer.json(observer.on(cmdTopic).at(-1)!);
    expect(cmd.expiresAt).toBe((cmd.issuedAt as number) + TTL_MS);
    expect(cmd.issuedAt).toBe(r.readAt);
    // Counted from the answer (≥ 250 ms after the read) it would have outlived the read's window.
    expect(cmd.expiresAt as number).toBeLessThan(r.readAt + 250 + TTL_MS);
  });

  it('is decided for the instant it was read: a visit that ends while the platform answers still opens', async () => {
    const now = Date.now();
    server.visits.set('BBBB-2222', { visitId: 'VIS-2', status: 'checked_in', validFrom: iso(now - 3600_000), validTo: iso(now + 150) });
    const r = await read('BBBB-2222', 300);
    expect(r.answeredBy).toBeGreaterThan(now + 150); // the answer came after the visit's end
    expect(r).toMatchObject({ relay: 'sent', reason: 'granted' });
  });

  it('is not pulsed when the answer comes after the read\'s command lifetime is over', async () => {
    const now = Date.now();
    server.visits.set('CCCC-3333', { visitId: 'VIS-3', status: 'checked_in', validFrom: iso(now - 3600_000), validTo: iso(now + 3600_000) });
    const packets = observer.on(cmdTopic).length;
    const r = await read('CCCC-3333', TTL_MS + 200);
    expect(r).toMatchObject({ relay: 'expired', reason: 'granted' });
    await sleep(100);
    expect(observer.on(cmdTopic).length).toBe(packets); // nothing on the wire
  });
});
