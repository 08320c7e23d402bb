import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createHttpApp, WEBHOOK_PATH } from '../../src/http/app.js';
import type { GatewayStatus } from '../../src/http/status.js';
import { Metrics } from '../../src/metrics.js';
import type { PartRoutes } from '../../src/parts/part.js';
import { silentLogger } from '../../src/util/log.js';

/* Routes a part mounts (parts/part.ts routes()): its API behind operator auth, the one platform webhook. */

const status = (): GatewayStatus => ({
  site: 'hq',
  version: 't',
  startedAt: 0,
  now: 0,
  health: 'ok',
  checks: { database: { ok: true, detail: 'open' } },
  index: { people: 0, cards: 0, grants: 0, doors: 0 },
  doors: [],
  readers: [],
  mqtt: { connected: true, url: 'embedded' },
  upstream: null,
  recent: [],
  alarms: [],
});

const appWith = (parts: PartRoutes[]) =>
  createHttpApp({ status, metrics: new Metrics(), logger: silentLogger, authToken: 'op-token', parts, allowedHosts: [], maxBodyBytes: 65_536 });

describe('part routes', () => {
  it("mounts each part's api under /api behind operator auth, and the webhook without it", async () => {
    const api = new Hono().get('/people/count', (c) => c.json({ people: 3 }));
    const webhook = new Hono().post('/', (c) => c.json({ received: true }));
    const app = appWith([{ api }, { webhook }]);
    expect((await app.request('/api/people/count')).status).toBe(401);
    const authed = await app.request('/api/people/count', { headers: { authorization: 'Bearer op-token' } });
    expect(await authed.json()).toEqual({ people: 3 });
    // Signed by the platform, not by the operator: no bearer token needed at this layer.
    const cb = await app.request(WEBHOOK_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await cb.json()).toEqual({ received: true });
  });

  it('refuses a second platform webhook: two links would answer each other\'s callbacks', () => {
    expect(() => appWith([{ webhook: new Hono() }, { webhook: new Hono() }])).toThrow(/2 parts mount the platform webhook/);
  });
});
