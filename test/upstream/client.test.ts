import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { UpstreamClient, UpstreamError, parseRetryAfter } from '../../src/upstream/client.js';
import { UpstreamHealth } from '../../src/upstream/health.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { at, Harness } from './harness.js';

let clock: FakeClock;
let sim: UpstreamSimulator;
let health: UpstreamHealth;

function client(opts: { token?: string; fetch?: typeof fetch; timeoutMs?: number } = {}): UpstreamClient {
  return new UpstreamClient({ baseUrl: `${sim.baseUrl}/`, token: opts.token ?? 'sim-token', requestTimeoutMs: opts.timeoutMs ?? 2000, clock, health, fetch: opts.fetch });
}

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

const visit = {
  visitId: 'VIS-311',
  visitor: { name: 'Sam Roe', email: 'Sam@Partner.example', company: 'Partner BV' },
  host: { name: 'Ana Silva', email: 'ana@example.com' },
  status: 'checked_in' as const,
  validFrom: '2026-11-22T09:00:00+01:00',
  validTo: '2026-11-22T18:00:00+01:00',
};

beforeEach(async () => {
  clock = new FakeClock();
  sim = new UpstreamSimulator({ clock });
  sim.addResource({ resourceId: 'R-101', timeZone: 'Europe/Amsterdam' });
  health = new UpstreamHealth(clock, true, () => 0.5);
  await sim.start();
});
afterEach(async () => sim.stop());

describe('UpstreamClient', () => {
  it('sends the token as authorization and reads information and resources', async () => {
    const c = client();
    expect(await c.information()).toEqual({ name: 'Offision simulator', version: '1.0' });
    expect(await c.resources()).toEqual([{ resourceId: 'R-101', name: 'R-101', type: 'room', locationId: 'HQ' }]);
    expect(health.state).toBe('ok');
    expect(health.lastSuccessAt).toBe(clock.now());
  });

  it('401 → unauthorized with a long backoff: no call until it expires or the token changes', async () => {
    const c = client({ token: 'wrong' });
    expect((await failure(c.information())).kind).toBe('unauthorized');
    expect(health.state).toBe('unauthorized');
    expect(health.blockedUntil - clock.now()).toBeGreaterThanOrEqual(60_000);
    const calls = sim.requests.length;
    expect((await failure(c.information())).kind).toBe('backoff');
    expect(sim.requests.length).toBe(calls);
    c.setToken('sim-token');
    await c.information();
    expect(health.state).toBe('ok');
  });

  // The reconciler fetches 16 lists at once: every call in flight when the gate closes fails too.
  it('16 concurrent calls failing in one outage close the gate once: 1 s, not 5 min', async () => {
    sim.outage = true;
    const c = client();
    const errs = await Promise.all(Array.from({ length: 16 }, () => failure(c.dailyList('R-101', '2026-11-22'))));
    expect(errs.map((e) => e.kind)).toEqual(Array(16).fill('server'));
    expect(health.blockedUntil - clock.now()).toBe(1000);
  });

  it('16 concurrent 401: unauthorized for 1 min, not about 1 h', async () => {
    const c = client({ token: 'wrong' });
    await Promise.all(Array.from({ length: 16 }, () => failure(c.dailyList('R-101', '2026-11-22'))));
    expect(health.state).toBe('unauthorized');
    expect(health.blockedUntil - clock.now()).toBe(60_000);
  });

  it('a new token does not lift a 429 retry-after block', async () => {
    const c = client();
    sim.injectFault({ status: 429, retryAfterSec: 42 });
    await failure(c.information());
    c.setToken('sim-token');
    const calls = sim.requests.length;
    expect((await failure(c.information())).kind).toBe('backoff');
    expect(sim.requests.length).toBe(calls);
    expect(health.blockedUntil - clock.now()).toBe(42_000);
  });

  it('5xx and network faults back off exponentially; 429 honours retry-after', async () => {
    const c = client();
    sim.injectFault({ status: 503 });
    expect((await failure(c.information())).kind).toBe('server');
    expect(health.state).toBe('unreachable');
    expect(health.blockedUntil - clock.now()).toBe(1000);
    clock.advance(1000);
    sim.injectFault({ status: 502 });
    await failure(c.information());
    expect(health.blockedUntil - clock.now()).toBe(2000);
    clock.advance(2000);
    sim.injectFault({ status: 429, retryAfterSec: 42 });
    expect((await failure(c.information())).kind).toBe('rate_limited');
    expect(health.blockedUntil - clock.now()).toBe(42_000);
    clock.advance(42_000);
    await c.information();
    expect(health.state).toBe('ok');
    const closed = new UpstreamClient({ baseUrl: 'http://127.0.0.1:1', token: 't', requestTimeoutMs: 1000, clock, health });
    expect((await failure(closed.information())).kind).toBe('network');
  });

  it('retry-after as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  // The spec: retry-after is in seconds. "1.5" and "-1" used to reach Date.parse, which reads them
  // as years, and came out as 0 ms: an immediate retry.
  it('retry-after: decimal seconds; negative or garbage is absent; capped at one day', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter(' 0.25 ', now)).toBe(250);
    expect(parseRetryAfter('0', now)).toBe(0);
    for (const bad of ['-1', '-0.5', '+3', '1,5', '1e3', '1.', '', '0x10', 'NaN']) expect(parseRetryAfter(bad, now), bad).toBeUndefined();
    expect(parseRetryAfter('99999999', now)).toBe(86_400_000);
    expect(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now)).toBe(86_400_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
  });

  it('a 429 with retry-after "1.5" blocks 1.5 s; with "-1" the normal backoff applies', async () => {
    const c = client();
    sim.injectFault({ status: 429, retryAfterSec: 1.5 });
    expect(await failure(c.information())).toMatchObject({ kind: 'rate_limited', retryAfterMs: 1500 });
    expect(health.blockedUntil - clock.now()).toBe(1500);
    clock.advance(1500);
    sim.injectFault({ status: 429, retryAfterSec: -1 });
    expect(await failure(c.information())).toMatchObject({ kind: 'rate_limited', retryAfterMs: undefined });
    expect(health.blockedUntil - clock.now()).toBe(5000);
  });

  it('a daily list that does not match the contract is an error, nothing of it returned', async () => {
    sim.model.create({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: { email: 'a@x.example' }, attendees: [] });
    const corrupt: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const body = (await res.json()) as { appointments: { start: string }[] };
      body.appointments[0]!.start = 'tomorrow';
      return new Response(JSON.stringify(body), { status: res.status });
    };
    const err = await failure(client({ fetch: corrupt }).dailyList('R-101', '2026-11-22'));
    expect(err.kind).toBe('invalid');
    expect(health.state).toBe('degraded');
    expect((await failure(client().dailyList('R-999', '2026-11-22'))).kind).toBe('not_found');
  });

  it('times out per call (requestTimeoutMs), on the injected clock', async () => {
    sim.hold();
    let settled = false;
    const pending = failure(client({ timeoutMs: 100 }).information()).finally(() => (settled = true));
    clock.advance(99);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    clock.advance(1);
    const err = await pending;
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/timed out/);
    expect(health.state).toBe('unreachable');
  });

  it('deleting a subscription that is already gone is fine', async () => {
    await client().deleteSubscription('S-nope');
    expect(health.state).toBe('ok');
  });
});

describe('verifyVisit (section 6)', () => {
  it('found, unknown (404, not a fault) and unreachable', async () => {
    sim.addVisit('V7K2-99QX', visit);
    const c = client();
    expect(await c.verifyVisit('V7K2-99QX', 'reception-gate-1', 2000)).toEqual({
      kind: 'found',
      visit: {
        visitId: 'VIS-311',
        status: 'checked_in',
        validFrom: Date.parse('2026-11-22T08:00:00Z'),
        validTo: Date.parse('2026-11-22T17:00:00Z'),
        visitorEmail: 'sam@partner.example',
        hostEmail: 'ana@example.com',
      },
    });
    expect(await c.verifyVisit('NOPE', 'reception-gate-1', 2000)).toEqual({ kind: 'unknown' });
    expect(health.state).toBe('ok');
    sim.injectFault({ status: 500 });
    expect((await c.verifyVisit('V7K2-99QX', 'g', 2000)).kind).toBe('unreachable');
    // The gate does not hold the visitor check back: it has its own deadline.
    expect(health.blocked()).toBe(true);
    expect((await c.verifyVisit('V7K2-99QX', 'g', 2000)).kind).toBe('found');
    expect((await client({ token: 'bad' }).verifyVisit('V7K2-99QX', 'g', 2000)).kind).toBe('unreachable');
    sim.hold();
    const hanging = client().verifyVisit('V7K2-99QX', 'g', 100);
    clock.advance(100);
    expect(await hanging).toMatchObject({ kind: 'unreachable', error: expect.stringMatching(/timed out/) });
  });

  it('a visit body that does not match the contract is unreadable: answered, so neither not found nor an outage', async () => {
    sim.addVisit('BAD', { ...visit, status: 'teleported' as 'checked_in' });
    expect((await client().verifyVisit('BAD', 'g', 2000)).kind).toBe('unreadable');
  });
});

describe('the gateway sync stays whole on a bad list', () => {
  it('an unusable participant email drops that participant only, never the list', async () => {
    const mangling: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).includes('R-101/appointments?date=2026-11-22')) return res;
      const body = (await res.json()) as { appointments: { attendees: { email: string }[] }[] };
      body.appointments[0]!.attendees[0]!.email = 'not-an-email';
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const h = await new Harness({ start: false, fetch: mangling }).init();
    try {
      h.giveCard('ana@example.com', '1001');
      h.giveCard('li@example.com', '2002');
      h.sim.model.create({
        resourceId: 'R-101',
        start: at('2026-11-22T11:00:00Z'),
        end: at('2026-11-22T12:00:00Z'),
        organizer: { email: 'ana@example.com' },
        attendees: [{ email: 'li@example.com' }],
      });
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
      expect(h.decide('2002', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
    } finally {
      await h.close();
    }
  });

  it('one malformed appointment: none of the list is applied', async () => {
    let corruptNext = true;
    // The gateway's fetch corrupts the second appointment of the first list of R-101 on the 22nd.
    const corrupting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = String(input);
      if (!corruptNext || !url.includes('R-101/appointments?date=2026-11-22')) return res;
      corruptNext = false;
      const body = (await res.json()) as { appointments: { start: string }[] };
      body.appointments[1]!.start = 'half past eleven';
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const h = await new Harness({ start: false, fetch: corrupting }).init();
    try {
      h.giveCard('ana@example.com', '1001');
      const organizer = { email: 'ana@example.com' };
      h.sim.model.create({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer, attendees: [] });
      h.sim.model.create({ resourceId: 'R-101', start: at('2026-11-22T13:00:00Z'), end: at('2026-11-22T14:00:00Z'), organizer, attendees: [] });
      expect((await h.sync.reconcileNow()).failed).toBe(1);
      expect(h.grantCount()).toBe(0);
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.grantCount()).toBe(2);
    } finally {
      await h.close();
    }
  });
});
