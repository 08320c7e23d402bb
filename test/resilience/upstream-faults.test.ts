import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamClient, UpstreamError } from '../../src/upstream/client.js';
import { UpstreamHealth } from '../../src/upstream/health.js';
import { systemClock } from '../../src/util/clock.js';
import { at, Harness, TOKEN } from '../upstream/harness.js';
import { HostileUpstream } from './helpers-updoors.js';

/**
 * Upstream faults: the booking platform down, slow, rate limiting, answering with the wrong
 * types or with bodies without end. Real HTTP on loopback (the project's simulator, or a
 * hostile server written here); time is fake where the gateway's clock drives it. Through all
 * of it the doors keep deciding from the local cache, and the gateway neither storms the
 * platform nor reads more than it can hold.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const ana = { email: 'ana@example.com', name: 'Ana' };
const CARD = '7340861';
const MiB = 1024 * 1024;

interface Call {
  /** Order of the call's start and of its answer, across all calls. */
  startSeq: number;
  endSeq: number | null;
  start: number;
  end: number | null;
  status: number | null;
  retryAfterSec: number | null;
  path: string;
}

/** The gateway's fetch, recording when each call started and ended and what it got (real HTTP underneath). */
function recordingFetch(now: () => number, redirect: { to: string | null; from: () => string } = { to: null, from: () => '' }) {
  const calls: Call[] = [];
  let seq = 0;
  const f: typeof fetch = async (input, init) => {
    const url = redirect.to ? String(input).replace(redirect.from(), redirect.to) : String(input);
    const call: Call = { startSeq: seq++, endSeq: null, start: now(), end: null, status: null, retryAfterSec: null, path: new URL(url).pathname };
    calls.push(call);
    try {
      const res = await fetch(url, init);
      call.status = res.status;
      const ra = res.headers.get('retry-after');
      call.retryAfterSec = ra === null ? null : Number(ra);
      return res;
    } finally {
      call.end = now();
      call.endSeq = seq++;
    }
  };
  return { fetch: f, calls };
}

/** A harness with one booking that grants ana the door now, and the gateway's calls recorded. */
async function bookedHarness(redirect?: { to: string | null; from: () => string }) {
  let clockNow = (): number => 0;
  const rec = recordingFetch(() => clockNow(), redirect);
  const h = new Harness({ fetch: rec.fetch, upstream: { reconcileIntervalSec: 300, requestTimeoutMs: 2000 } });
  clockNow = () => h.clock.now();
  if (redirect) redirect.from = () => h.sim.baseUrl;
  await h.init();
  cleanups.push(() => h.close());
  h.giveCard(ana.email, CARD);
  h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T09:00:00Z'), end: at('2026-11-22T18:00:00Z'), organizer: ana });
  await h.settle();
  expect(h.decide(CARD, 'door-orion', h.clock.now())).toBe('granted');
  return { h, calls: rec.calls };
}

/** Moves fake time second by second (so every timer fires when it is due), settling each step. */
async function run(h: Harness, seconds: number): Promise<void> {
  for (let s = 0; s < seconds; s++) await h.advance(1000);
}

describe('upstream faults', () => {
  it('outage for 10 min: doors keep deciding from the cache, calls back off (counted), and it recovers', async () => {
    const { h, calls } = await bookedHarness();
    const before = calls.length;
    h.sim.outage = true;
    await run(h, 600);
    const during = calls.length - before;
    expect(h.sync.status().state).toBe('unreachable');
    expect(h.decide(CARD, 'door-orion', h.clock.now())).toBe('granted');
    expect(h.grantCount()).toBe(1);
    // Backoff 1 s doubling to 5 min: about ten gate openings in 10 min, each a handful of calls (measured: 14).
    expect(during).toBeLessThanOrEqual(60);
    h.sim.outage = false;
    await run(h, 301);
    expect(h.sync.status().state).toBe('ok');
    expect(h.sim.liveSubscriptions().length).toBeGreaterThan(0);
  }, 60_000);

  it('slow answers (the platform hangs): each call ends at its deadline, calls in flight stay bounded, the cache decides', async () => {
    const { h, calls } = await bookedHarness();
    h.sim.hold();
    let maxInFlight = 0;
    for (let s = 0; s < 600; s++) {
      // Not h.advance: settling would wait for calls that only the next tick of time ends.
      h.clock.advance(1000);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      maxInFlight = Math.max(maxInFlight, calls.filter((c) => c.end === null).length);
    }
    expect(h.sync.status().state).toBe('unreachable');
    expect(h.sync.status().lastError).toMatch(/timed out/);
    // One sweep's 16 plus the subscription check: never a pile of hung calls.
    expect(maxInFlight).toBeLessThanOrEqual(17);
    expect(h.decide(CARD, 'door-orion', h.clock.now())).toBe('granted');
    h.sim.release();
    await run(h, 301);
    expect(h.sync.status().state).toBe('ok');
  }, 60_000);

  it('a 429 storm: retry-after is honoured by every caller (no call before it ends) and calls stay few (counted)', async () => {
    const { h, calls } = await bookedHarness();
    const from = calls.length;
    h.sim.injectFault({ status: 429, retryAfterSec: 30, count: 1_000_000 });
    await run(h, 600);
    const storm = calls.slice(from);
    const limited = storm.filter((c) => c.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    // No call may start after a 429 was answered and before its retry-after ran out.
    const early = storm.filter((c) => limited.some((l) => c.startSeq > l.endSeq! && c.start < l.end! + l.retryAfterSec! * 1000));
    expect(early).toEqual([]);
    // 20 retry-after windows in 10 min: a probe or two each (measured: 21 calls in all), not a sweep's 16.
    expect(storm.length).toBeLessThanOrEqual(20 * 2 + 17);
    expect(h.decide(CARD, 'door-orion', h.clock.now())).toBe('granted');
    expect(h.sync.status().state).toBe('degraded');
  }, 60_000);

  it('wrong types in every answer: nothing stored changes, the status says why, doors keep deciding', async () => {
    const hostile = await HostileUpstream.start((req, res) => {
      const body = req.url?.includes('/appointments')
        ? { resourceId: 'R-101', date: '2026-11-22', timeZone: 'Europe/Amsterdam', appointments: [{ appointmentId: 7, status: 'confirmed', start: 1, end: 2, organizer: 'ana' }] }
        : req.url?.includes('/subscriptions')
          ? { subscriptionId: ['S-1'], expiresAt: 42 }
          : { resources: 'all of them' };
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    cleanups.push(() => hostile.close());
    const redirect = { to: null as string | null, from: () => '' };
    const { h } = await bookedHarness(redirect);
    const grants = h.store.db.prepare('SELECT person_id, door_id, valid_from, valid_to FROM grants ORDER BY id').all();
    redirect.to = hostile.baseUrl;
    await run(h, 301);
    expect(hostile.requests).toBeGreaterThan(0);
    expect(h.store.db.prepare('SELECT person_id, door_id, valid_from, valid_to FROM grants ORDER BY id').all()).toEqual(grants);
    expect(h.sync.status().state).toBe('degraded');
    expect(h.sync.status().lastError).toMatch(/does not match the contract/);
    expect(h.sync.status().lastReconcile?.failed).toBeGreaterThan(0);
    expect(h.decide(CARD, 'door-orion', h.clock.now())).toBe('granted');
  }, 60_000);
});

describe('upstream faults: huge and endless bodies are not read past a bound', () => {
  const client = (baseUrl: string, timeoutMs = 30_000) =>
    new UpstreamClient({ baseUrl, token: TOKEN, requestTimeoutMs: timeoutMs, clock: systemClock, health: new UpstreamHealth(systemClock, true) });

  it('a 64 MiB answer without content-length: the client stops reading past its cap and reports a fault', async () => {
    const hostile = await HostileUpstream.start((_req, res, self) => self.streamHugeJson(res, 64 * MiB, false));
    cleanups.push(() => hostile.close());
    const c = client(hostile.baseUrl);
    const err = await c.resources().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe('invalid');
    expect((err as UpstreamError).message).toMatch(/larger than/);
    // What the server got into the socket before the client hung up: the cap plus socket buffers, not 64 MiB.
    await new Promise((r) => setTimeout(r, 100));
    expect(hostile.bytesWritten).toBeLessThan(16 * MiB);
    expect(c.health.state).toBe('degraded');
  });

  it('a declared content-length beyond the cap is refused before the body is read', async () => {
    const hostile = await HostileUpstream.start((_req, res, self) => self.streamHugeJson(res, 64 * MiB, true));
    cleanups.push(() => hostile.close());
    const err = await client(hostile.baseUrl).resources().then(() => null, (e: unknown) => e);
    expect((err as UpstreamError).kind).toBe('invalid');
    expect((err as UpstreamError).message).toMatch(/larger than/);
    await new Promise((r) => setTimeout(r, 100));
    expect(hostile.bytesWritten).toBeLessThan(16 * MiB);
  });

  it('an answer within the cap is read whole', async () => {
    const hostile = await HostileUpstream.start((_req, res, self) => self.streamHugeJson(res, 512 * 1024, false));
    cleanups.push(() => hostile.close());
    const resources = await client(hostile.baseUrl).resources();
    expect(resources.length).toBeGreaterThan(4000);
  });

  it('a body that drips one byte at a time ends at the call deadline, not when the server likes', async () => {
    const hostile = await HostileUpstream.start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    cleanups.push(() => hostile.close());
    const err = await client(hostile.baseUrl, 300).resources().then(() => null, (e: unknown) => e);
    expect((err as UpstreamError).kind).toBe('timeout');
  });
});
