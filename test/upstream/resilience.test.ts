import { afterEach, describe, expect, it } from 'vitest';
import { FetchCoalescer } from '../../src/upstream/fetch-coalescer.js';
import { at, Harness, TOKEN } from './harness.js';

const ana = { email: 'ana@example.com' };
const NOON = '2026-11-22T11:30:00Z';
let h: Harness;
afterEach(async () => h?.close());

async function booked(): Promise<string> {
  h.giveCard('ana@example.com', '1001');
  const id = h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
  await h.settle();
  expect(h.decide('1001', 'door-orion', NOON)).toBe('granted');
  return id;
}

describe('duplicates and order', () => {
  it('duplicate deliveries are accepted once and applied once', async () => {
    h = await new Harness().init();
    h.sim.delivery.duplicates = 2;
    await booked();
    expect(h.sync.status().callbacks).toMatchObject({ accepted: 1, duplicates: 2 });
    expect(h.grantCount()).toBe(1);
  });

  it('out-of-order callbacks end in the platform\'s latest state', async () => {
    h = await new Harness().init();
    h.giveCard('ana@example.com', '1001');
    h.sim.delivery.hold = true;
    const id = h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    h.clock.advance(1000);
    h.sim.moveAppointment(id, { start: at('2026-11-23T09:00:00Z'), end: at('2026-11-23T10:00:00Z') });
    h.clock.advance(1000);
    h.sim.updateAppointment(id, { attendees: [{ email: 'li@example.com' }] });
    expect(h.sim.delivery.heldCount()).toBe(3);
    h.sim.delivery.release('reverse');
    await h.settle();
    expect(h.decide('1001', 'door-orion', NOON)).toBe('denied');
    expect(h.decide('1001', 'door-orion', '2026-11-23T09:30:00Z')).toBe('granted');
    h.giveCard('li@example.com', '1002');
    expect(h.decide('1002', 'door-orion', '2026-11-23T09:30:00Z')).toBe('granted');
  });

  it('a request during a fetch in flight causes exactly one more fetch, after it', async () => {
    const releases: (() => void)[] = [];
    const started: number[] = [];
    let n = 0;
    const c = new FetchCoalescer<number>(() => {
      const run = ++n;
      started.push(run);
      return new Promise((resolve) => releases.push(() => resolve(run)));
    });
    const first = c.request('R\nD');
    const second = c.request('R\nD');
    const third = c.request('R\nD');
    expect(started).toEqual([1]);
    releases.shift()!();
    expect(await first).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 2]);
    releases.shift()!();
    expect(await second).toBe(2);
    expect(await third).toBe(2);
    await c.idle();
    expect(n).toBe(2);
  });
});

describe('reconciliation', () => {
  it('callbacks share one limit of 8 daily-list fetches in flight, whatever the burst', async () => {
    let inFlight = 0;
    let most = 0;
    const counting: typeof fetch = async (input, init) => {
      const list = String(input).includes('/appointments?date=');
      if (list) most = Math.max(most, ++inFlight);
      try {
        return await fetch(input, init);
      } finally {
        if (list) inFlight--;
      }
    };
    const resources = ['R-101', 'R-102', 'R-103', 'R-104'].map((id) => ({ id, doors: ['door-lobby'] }));
    h = await new Harness({ resources, fetch: counting }).init();
    const fetchedBefore = h.sim.requestCount('/appointments?date=');
    h.sim.hold(); // the platform answers nothing until every callback has asked
    // Four bookings of 20 days each: four callbacks naming 20 dates (each per-callback pool of 4 allowed 16).
    for (const r of resources) h.sim.createAppointment({ resourceId: r.id, start: at('2026-11-22T09:00:00Z'), end: at('2026-12-11T17:00:00Z'), organizer: ana });
    for (let i = 0; i < 20; i++) {
      await h.sim.delivery.idle();
      await new Promise((r) => setImmediate(r));
    }
    expect(h.sync.status().callbacks.accepted).toBe(4);
    expect(inFlight).toBe(8);
    h.sim.release();
    await h.settle();
    expect(most).toBe(8);
    expect(h.sim.requestCount('/appointments?date=') - fetchedBefore).toBe(4 * 20);
  });

  it('repairs a lost callback within one interval', async () => {
    h = await new Harness().init();
    h.giveCard('ana@example.com', '1001');
    h.sim.delivery.dropNext = 1;
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.decide('1001', 'door-orion', NOON)).toBe('denied');
    await h.advance(300_000);
    expect(h.decide('1001', 'door-orion', NOON)).toBe('granted');
    expect(h.sync.status().lastReconcile).toMatchObject({ resources: 2, appointments: 1, changed: 1, failed: 0 });
  });

  it('an outage during reconciliation loses nothing; the status says so; it recovers', async () => {
    h = await new Harness().init();
    const id = await booked();
    h.sim.outage = true;
    const before = h.dbHash();
    await h.advance(300_000);
    expect(h.sync.status().state).toBe('unreachable');
    expect(h.sync.status().lastReconcile?.failed).toBe(6);
    expect(h.decide('1001', 'door-orion', NOON)).toBe('granted');
    expect(h.dbHash()).toBe(before);
    // Cancelled during the outage: the callback is accepted, its fetch fails and is retried.
    h.sim.cancelAppointment(id);
    await h.settle();
    expect(h.decide('1001', 'door-orion', NOON)).toBe('granted');
    h.sim.outage = false;
    // The outage closed the gate once (~1 s, not escalated per call in flight): the retry probe
    // goes out first and is answered before the fake clock jumps past its deadline.
    await h.advance(1_500);
    await h.advance(298_500);
    expect(h.decide('1001', 'door-orion', NOON)).toBe('denied');
    expect(h.sync.status().state).toBe('ok');
  });

  it('start() never throws on outage and catches up when the platform returns', async () => {
    h = new Harness({ start: false });
    h.sim.outage = true;
    await h.init();
    await h.sync.start();
    await h.settle();
    expect(h.sync.status()).toMatchObject({ state: 'unreachable', subscriptions: [] });
    h.sim.outage = false;
    await h.advance(300_000);
    expect(h.sync.status().state).toBe('ok');
    expect(h.sync.status().subscriptions).toHaveLength(1);
  });

  it('honours retry-after on 429', async () => {
    h = await new Harness().init();
    h.giveCard('ana@example.com', '1001');
    h.sim.injectFault({ status: 429, retryAfterSec: 120, pathIncludes: '/appointments' });
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    const calls = h.sim.requestCount('/appointments');
    expect(h.sync.status().state).toBe('degraded');
    await h.advance(119_000);
    expect(h.sim.requestCount('/appointments')).toBe(calls);
    expect(h.decide('1001', 'door-orion', NOON)).toBe('denied');
    await h.advance(2_000);
    expect(h.decide('1001', 'door-orion', NOON)).toBe('granted');
    expect(h.sync.status().state).toBe('ok');
  });
});

describe('token', () => {
  it('revoked mid-run: unauthorized, long backoff, cache keeps deciding, recovers after setToken', async () => {
    h = await new Harness().init();
    const id = await booked();
    h.sim.revokeToken(TOKEN);
    await h.advance(1000);
    h.sim.moveAppointment(id, { start: at('2026-11-22T14:00:00Z'), end: at('2026-11-22T15:00:00Z') });
    await h.settle();
    const status = h.sync.status();
    expect(status.state).toBe('unauthorized');
    expect(status.lastError).toMatch(/^401/);
    expect(h.decide('1001', 'door-orion', NOON)).toBe('granted');
    const calls = h.sim.requests.length;
    await h.advance(45_000);
    expect(h.sim.requests.length).toBe(calls);
    h.sim.addToken('tok-new');
    h.sync.setToken('tok-new');
    await h.settle();
    expect(h.sync.status().state).toBe('ok');
    expect(h.decide('1001', 'door-orion', NOON)).toBe('denied');
    expect(h.decide('1001', 'door-orion', '2026-11-22T14:30:00Z')).toBe('granted');
  });
});

describe('subscriptions and mapping', () => {
  it('renews before expiry: new first, old deleted; the old secret counts until deleted', async () => {
    h = await new Harness({ upstream: { reconcileIntervalSec: 43_200 } }).init();
    const [old] = h.sim.liveSubscriptions();
    h.sim.injectFault({ status: 503, pathIncludes: `/subscriptions/${old!.subscriptionId}` });
    await h.advance(6 * 86_400_000 - 43_200_000);
    expect(h.sim.liveSubscriptions()).toHaveLength(1);
    await h.advance(43_200_000);
    const subs = h.sync.status().subscriptions;
    expect(subs.map((s) => s.state).sort()).toEqual(['active', 'replaced']);
    expect(h.sim.liveSubscriptions()).toHaveLength(2);
    // Still verifying callbacks for the replaced one: the booking arrives through both.
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-28T11:00:00Z'), end: at('2026-11-28T12:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.sync.status().callbacks).toMatchObject({ accepted: 2, rejected: {} });
    await h.advance(43_200_000);
    expect(h.sync.status().subscriptions.map((s) => s.state)).toEqual(['active']);
    expect(h.sim.liveSubscriptions().map((s) => s.subscriptionId)).not.toContain(old!.subscriptionId);
  });

  it('a restart subscribes afresh with a new secret, then deletes the stored one', async () => {
    h = await new Harness().init();
    const [before] = h.sim.liveSubscriptions();
    await h.sync.stop();
    // The platform lost nothing here, but a stored record could not tell if it had (a restore,
    // a changed callbackUrl): the next process subscribes anew and retires the old one.
    h.sync = h.makeSync();
    h.mountWebhook();
    await h.sync.start();
    await h.settle();
    const live = h.sim.liveSubscriptions();
    expect(live).toHaveLength(1);
    expect(live[0]!.subscriptionId).not.toBe(before!.subscriptionId);
    expect(live[0]!.secret).not.toBe(before!.secret);
    expect(h.sync.status().subscriptions.map((s) => [s.id, s.state])).toEqual([[live[0]!.subscriptionId, 'active']]);
    // Callbacks come through the new subscription, and the old secret no longer verifies anything.
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.sync.status().callbacks).toMatchObject({ accepted: 1, rejected: {} });
    expect(h.decide('1001', 'door-orion', NOON)).toBe('granted');
  });

  it('a create whose 201 is lost: its callbacks verify and are answered 202, the retry reuses the secret, the orphan is deleted', async () => {
    let lose = 1;
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST' && String(input).endsWith('/subscriptions') && lose-- > 0) {
        await res.arrayBuffer();
        throw new TypeError('fetch failed'); // the platform made it; the answer never arrived
      }
      return res;
    };
    h = await new Harness({ fetch: lossy }).init();
    const [orphan] = h.sim.liveSubscriptions();
    expect(h.sync.status().subscriptions.map((s) => s.state)).toEqual(['pending']);
    // Its callbacks are signed with the pending secret: recognised, not a 24 h 401 retry loop.
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.sync.status().callbacks.rejected).toEqual({ '202': 1 });
    expect(h.sim.delivery.attempts.every((a) => a.result === 202)).toBe(true);
    // The next check subscribes with the same secret and deletes the orphan it now knows.
    await h.advance(300_000);
    const live = h.sim.liveSubscriptions();
    expect(live).toHaveLength(1);
    expect(live[0]!.subscriptionId).not.toBe(orphan!.subscriptionId);
    expect(live[0]!.secret).toBe(orphan!.secret);
    expect(h.sync.status().subscriptions.map((s) => [s.id, s.state])).toEqual([[live[0]!.subscriptionId, 'active']]);
    // The booking itself was repaired by the sweep meanwhile.
    expect(h.decide('1001', 'door-orion', NOON)).toBe('granted');
  });

  it('a mapped resource the platform lacks is left out of the subscription, reported, and joins once it exists', async () => {
    h = await new Harness({
      resources: [
        { id: 'R-101', doors: ['door-orion'] },
        { id: 'R-404', doors: ['door-lobby'] },
      ],
      notAtPlatform: ['R-404'],
    }).init();
    expect(h.sync.status().subscriptions.map((s) => s.resources)).toEqual([['R-101']]);
    expect(h.sync.status().unknownResources).toEqual(['R-404']);
    // Callbacks still flow for the resources that exist.
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.sync.status().callbacks).toMatchObject({ accepted: 1, rejected: {} });
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
    // The room is created at the platform: the next check subscribes to it and drops the old one.
    h.sim.addResource({ resourceId: 'R-404', timeZone: 'Europe/Amsterdam' });
    await h.advance(300_000);
    expect(h.sync.status().unknownResources).toEqual([]);
    expect(h.sync.status().subscriptions.map((s) => [s.resources, s.state])).toEqual([[['R-101', 'R-404'], 'active']]);
    expect(h.sim.liveSubscriptions()).toHaveLength(1);
  });

  it('a mapping change re-derives grants of an ongoing booking at once and resubscribes', async () => {
    h = await new Harness().init();
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T09:30:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    const now = h.clock.now();
    expect(h.decide('1001', 'door-orion', now)).toBe('granted');
    h.sim.addResource({ resourceId: 'R-103', timeZone: 'Europe/Amsterdam' });
    const next = [
      { id: 'R-101', doors: ['door-lyra'], graceAfterMinutes: 0 },
      { id: 'R-102', doors: ['door-lyra', 'door-lobby'] },
      { id: 'R-103', doors: ['door-lobby'] },
    ];
    const changed = h.syncMapping(next);
    expect(changed).toEqual(['R-101', 'R-103']);
    await h.sync.mappingChanged(changed, next);
    expect(h.decide('1001', 'door-orion', now)).toBe('denied');
    expect(h.decide('1001', 'door-lyra', now)).toBe('granted');
    expect(h.decide('1001', 'door-lyra', '2026-11-22T12:10:00Z')).toBe('denied');
    await h.settle();
    const subs = h.sync.status().subscriptions;
    expect(subs).toHaveLength(1);
    expect(subs[0]!.resources).toEqual(['R-101', 'R-102', 'R-103']);
    expect(h.sim.liveSubscriptions()).toHaveLength(1);
  });
});
