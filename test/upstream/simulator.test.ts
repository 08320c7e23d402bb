import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextRetryDelay } from '../../src/simulator/delivery.js';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { matchingSecrets, parseSignatures } from '../../src/upstream/signature.js';
import { FakeClock } from '../helpers/fake-clock.js';

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
let clock: FakeClock;
let sim: UpstreamSimulator;

async function call(method: string, path: string, body?: unknown, auth = 'sim-token'): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(`${sim.baseUrl}/API/external${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

beforeEach(async () => {
  clock = new FakeClock();
  sim = new UpstreamSimulator({ clock });
  sim.addResource({ resourceId: 'R-101', timeZone: 'Europe/Amsterdam' });
  await sim.start();
});
afterEach(async () => sim.stop());

describe('simulator API', () => {
  it('accepts the token as authorization or as Basic user name with an empty password', async () => {
    expect((await call('GET', '/system/v1/information')).status).toBe(200);
    expect((await call('GET', '/system/v1/information', undefined, `Basic ${Buffer.from('sim-token:').toString('base64')}`)).status).toBe(200);
    expect((await call('GET', '/system/v1/information', undefined, `Basic ${Buffer.from('sim-token:x').toString('base64')}`)).status).toBe(401);
    expect((await call('GET', '/system/v1/information', undefined, 'nope')).status).toBe(401);
    sim.revokeToken('sim-token');
    expect((await call('GET', '/system/v1/information')).status).toBe(401);
  });

  it('subscriptions: secret format validated, expiresAt within 7 days, list and delete', async () => {
    const url = 'https://gw.example/webhooks/offision';
    for (const secret of ['whsec_short', 'abc', `whsec_${Buffer.alloc(65).toString('base64')}`, `whsec_${Buffer.alloc(23).toString('base64')}`]) {
      expect((await call('POST', '/booking/v1/subscriptions', { callUrl: url, resourceIds: ['R-101'], secret })).status).toBe(400);
    }
    expect((await call('POST', '/booking/v1/subscriptions', { callUrl: url, resourceIds: ['R-999'], secret: SECRET })).status).toBe(400);
    const created = await call('POST', '/booking/v1/subscriptions', { callUrl: url, resourceIds: ['R-101'], secret: SECRET });
    expect(created.status).toBe(201);
    const { subscriptionId, expiresAt } = created.json as { subscriptionId: string; expiresAt: string };
    expect(Date.parse(expiresAt) - clock.now()).toBe(7 * 86_400_000);
    expect(((await call('GET', '/booking/v1/subscriptions')).json as { subscriptions: unknown[] }).subscriptions).toHaveLength(1);
    expect((await call('DELETE', `/booking/v1/subscriptions/${subscriptionId}`)).status).toBe(204);
    expect((await call('DELETE', `/booking/v1/subscriptions/${subscriptionId}`)).status).toBe(404);
  });

  it('daily lists: 400 bad date, 404 unknown resource, midnight-spanning on both dates, outage 503', async () => {
    expect((await call('GET', '/booking/v1/resources/R-101/appointments?date=2026-13-01')).status).toBe(400);
    expect((await call('GET', '/booking/v1/resources/R-999/appointments?date=2026-11-22')).status).toBe(404);
    sim.model.create({ resourceId: 'R-101', start: Date.parse('2026-11-22T22:00:00Z'), end: Date.parse('2026-11-23T02:00:00Z'), organizer: { email: 'a@x.example' }, attendees: [] });
    for (const date of ['2026-11-22', '2026-11-23', '2026-11-24']) {
      const list = (await call('GET', `/booking/v1/resources/R-101/appointments?date=${date}`)).json as { timeZone: string; appointments: unknown[] };
      expect(list.timeZone).toBe('Europe/Amsterdam');
      expect(list.appointments).toHaveLength(date === '2026-11-24' ? 0 : 1);
    }
    sim.injectFault({ status: 429, retryAfterSec: 7 });
    const limited = await call('GET', '/booking/v1/resources');
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '7']);
    sim.outage = true;
    expect((await call('GET', '/system/v1/information', undefined, 'nope')).status).toBe(503);
  });
});

describe('simulator delivery', () => {
  let receiver: ServerType;
  let received: { id: string; ts: string; signature: string; body: string }[];
  let answer: number;

  beforeEach(async () => {
    received = [];
    answer = 500;
    const app = new Hono();
    app.post('/cb', async (c) => {
      received.push({ id: c.req.header('webhook-id')!, ts: c.req.header('webhook-timestamp')!, signature: c.req.header('webhook-signature')!, body: await c.req.text() });
      return c.body(null, answer as 500);
    });
    const port = await new Promise<number>((resolve) => {
      receiver = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve(info.port));
    });
    await call('POST', '/booking/v1/subscriptions', { callUrl: `http://127.0.0.1:${port}/cb`, resourceIds: ['R-101'], secret: SECRET });
  });
  afterEach(async () => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('the retry schedule is 5 s, 30 s, 2 min, 10 min, 1 h, then hourly for 24 h', () => {
    const delays: number[] = [];
    for (let n = 1; nextRetryDelay(n) !== null; n++) delays.push(nextRetryDelay(n)!);
    expect(delays.slice(0, 6)).toEqual([5_000, 30_000, 120_000, 600_000, 3_600_000, 3_600_000]);
    expect(delays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(24 * 3_600_000);
    expect(delays.reduce((a, b) => a + b, 0) + 3_600_000).toBeGreaterThan(24 * 3_600_000);
  });

  it('retries a failing receiver on that schedule, same id, freshly signed; stops on 2xx', async () => {
    const t0 = clock.now();
    sim.createAppointment({ resourceId: 'R-101', start: t0 + 3_600_000, end: t0 + 7_200_000, organizer: { email: 'a@x.example' } });
    await sim.delivery.idle();
    for (const step of [5_000, 30_000, 120_000, 600_000, 3_600_000, 3_600_000]) {
      clock.advance(step);
      await sim.delivery.idle();
    }
    const offsets = sim.delivery.attempts.map((a) => (a.at - t0) / 1000);
    expect(offsets).toEqual([0, 5, 35, 155, 755, 4355, 7955]);
    expect(new Set(received.map((r) => r.id)).size).toBe(1);
    const last = received.at(-1)!;
    expect(Number(last.ts)).toBe(Math.floor(clock.now() / 1000));
    expect(matchingSecrets([SECRET], last.id, last.ts, Buffer.from(last.body), parseSignatures(last.signature))).toEqual([0]);
    expect(JSON.parse(last.body)).toMatchObject({ type: 'appointment.created', resourceId: 'R-101', dates: ['2026-11-22'] });
    answer = 204;
    clock.advance(3_600_000);
    await sim.delivery.idle();
    clock.advance(48 * 3_600_000);
    await sim.delivery.idle();
    expect(received).toHaveLength(8);
  });

  it('gives up after 24 h of failures', async () => {
    sim.createAppointment({ resourceId: 'R-101', start: clock.now(), end: clock.now() + 1000, organizer: { email: 'a@x.example' } });
    for (let i = 0; i < 30; i++) {
      await sim.delivery.idle();
      clock.advance(3_600_000);
    }
    await sim.delivery.idle();
    expect(received.length).toBe(1 + [...Array(40).keys()].filter((n) => nextRetryDelay(n + 1) !== null).length);
    expect(received.length).toBe(28);
  });
});
