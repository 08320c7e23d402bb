import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema, type VisitorsConfig } from '../../src/config/schema.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { VisitorGate } from '../../src/visitors/visitor-gate.js';
import { tempDir } from '../helpers/tmp.js';
import { UpstreamClient } from '../../src/upstream/client.js';
import { UpstreamHealth } from '../../src/upstream/health.js';
import { VisitServer } from './visit-server.js';

/*
 * Over real loopback HTTP: the platform answers, says 404, fails with 503, or hangs past the
 * deadline (shortened to 150 ms for that test; 2 s in production).
 */

const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const H = 3600_000;

describe('VisitorGate over loopback HTTP', () => {
  let server: VisitServer;
  let db: Db;
  let cleanup: () => void;

  beforeAll(async () => {
    server = await VisitServer.start();
    const t = tempDir('lintel-visit-http-');
    cleanup = t.cleanup;
    db = openDatabase(join(t.dir, 'lintel.db'));
  });
  afterAll(async () => {
    await server.close();
    db.close();
    cleanup();
  });
  beforeEach(() => {
    server.mode = 'normal';
    server.visits.clear();
    server.visits.set('V7K2-99QX', { visitId: 'VIS-311', status: 'checked_in', validFrom: iso(now - H), validTo: iso(now + H) });
    server.visits.set('EXP1-0000', { visitId: 'VIS-312', status: 'expected', validFrom: iso(now - H), validTo: iso(now + H) });
  });

  function gate(visitors: Partial<VisitorsConfig> = {}): VisitorGate {
    const cfg = configSchema.parse({
      site: { id: 'hq' },
      doors: [{ id: 'gate', visitors: true }],
      // The production deadline for answers; only the hang test shortens it, so a cold first
      // request on a loaded CI box is never mistaken for an outage.
      visitors: { verifyTimeoutMs: 2000, ...visitors },
    });
    return new VisitorGate({
      // The production client, against a hand-written server of the spec's section 6.
      verifier: new UpstreamClient({ baseUrl: server.baseUrl, token: 'test-token', requestTimeoutMs: 10_000, clock: systemClock, health: new UpstreamHealth(systemClock, true) }),
      db,
      config: cfg.visitors,
      doors: cfg.doors,
      deviceId: 'reception-gate-1',
      clock: systemClock,
      logger: silentLogger,
    });
  }

  it('grants a checked-in visit and sends the contract body', async () => {
    expect((await gate().decide('v7k2-99qx', 'gate')).result).toBe('granted');
    expect(server.requests.at(-1)).toEqual({ registrationCode: 'V7K2-99QX', deviceId: 'reception-gate-1', authorization: 'test-token' });
  });

  it('denies expected and unknown codes', async () => {
    expect((await gate().decide('EXP1-0000', 'gate')).reason).toBe('visit_expected');
    expect((await gate().decide('NOPE-1234', 'gate')).reason).toBe('visit_unknown');
  });

  it('503: offline policy applies (deny, or the cached checked-in answer)', async () => {
    const cached = gate({ offlinePolicy: 'allow-cached-checked-in' });
    expect((await cached.decide('V7K2-99QX', 'gate')).result).toBe('granted');
    server.mode = '503';
    expect((await cached.decide('V7K2-99QX', 'gate')).reason).toBe('visit_offline_cached');
    expect((await gate({ offlinePolicy: 'deny' }).decide('V7K2-99QX', 'gate')).reason).toBe('visit_offline_denied');
  });

  it('a platform that hangs past the deadline is treated as unreachable', async () => {
    // Cache a checked-in answer first (same database), with the normal deadline.
    expect((await gate().decide('V7K2-99QX', 'gate')).result).toBe('granted');
    const cached = gate({ offlinePolicy: 'allow-cached-checked-in', verifyTimeoutMs: 150 });
    server.mode = 'hang';
    const before = server.requests.length;
    expect(await cached.decide('V7K2-99QX', 'gate')).toEqual({ result: 'granted', reason: 'visit_offline_cached', personId: null });
    expect(server.requests.length).toBe(before + 1); // it did ask, and gave up
    expect((await gate({ offlinePolicy: 'deny', verifyTimeoutMs: 150 }).decide('V7K2-99QX', 'gate')).reason).toBe('visit_offline_denied');
  });
});
