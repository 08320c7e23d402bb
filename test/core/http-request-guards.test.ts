import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createHttpApp, type HttpDeps } from '../../src/http/app.js';
import { allowedHostNames } from '../../src/http/request-guards.js';
import type { GatewayStatus } from '../../src/http/status.js';
import { Metrics } from '../../src/metrics.js';
import { createQrRoutes } from '../../src/qr/routes.js';
import { silentLogger } from '../../src/util/log.js';

/*
 * Cross-site requests and DNS rebinding against the default loopback bind, with no operator
 * token: the browser of anyone on the gateway host can reach 127.0.0.1, and a rebound name
 * can make the page's own origin point there. Host, Origin, Sec-Fetch-Site and the content
 * type are the only things that tell such a request from the operator's.
 */

const status = (): GatewayStatus => ({
  site: 'hq',
  version: '0.1.0',
  startedAt: 0,
  now: 0,
  health: 'ok',
  checks: {},
  index: { people: 0, cards: 0, grants: 0, doors: 0 },
  doors: [],
  readers: [],
  mqtt: { connected: true, url: 'embedded' },
  upstream: null,
  recent: [],
  alarms: [],
});

function setup(over: Partial<HttpDeps> = {}) {
  const issued: string[] = [];
  const qr = createQrRoutes({
    issue: (email) => {
      issued.push(email);
      return { token: 'LT1.x', expiresAt: 0 } as ReturnType<Parameters<typeof createQrRoutes>[0]['issue']>;
    },
  });
  const webhookBodies: number[] = [];
  const webhook = new Hono().post('/', async (c) => {
    webhookBodies.push((await c.req.arrayBuffer()).byteLength);
    return c.json({ status: 'accepted' });
  });
  const app = createHttpApp({
    status,
    metrics: new Metrics(),
    logger: silentLogger,
    authToken: undefined,
    webhook,
    api: [qr],
    allowedHosts: ['gateway.example.net'],
    maxBodyBytes: 1024,
    ...over,
  });
  return { app, issued, webhookBodies };
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { host: '127.0.0.1:8080', 'content-type': 'application/json', ...headers },
});

describe('http request guards', () => {
  it('the reported attack: text/plain POST with a foreign Origin and Host gets no token', async () => {
    const { app, issued } = setup();
    const res = await app.request('/api/qr/tokens', {
      method: 'POST',
      body: JSON.stringify({ email: 'ana@example.com' }),
      headers: { host: 'evil.example:8080', origin: 'http://evil.example:8080', 'content-type': 'text/plain' },
    });
    expect(res.status).not.toBe(201);
    expect([403, 415, 421]).toContain(res.status);
    expect(issued).toEqual([]);
  });

  it('a foreign Host is refused on every route, reads included (DNS rebinding)', async () => {
    const { app } = setup();
    for (const path of ['/', '/health', '/metrics', '/api/status']) {
      const res = await app.request(path, { headers: { host: 'rebind.attacker.example' } });
      expect(res.status, path).toBe(421);
    }
    for (const host of ['127.0.0.1:8080', 'localhost', 'LOCALHOST:8080', '[::1]:8080', 'gateway.example.net', 'gateway.example.net:443']) {
      expect((await app.request('/health', { headers: { host } })).status, host).toBe(200);
    }
    // A name that merely starts like loopback is not loopback.
    expect((await app.request('/health', { headers: { host: '127.0.0.1.nip.io' } })).status).toBe(421);
  });

  it('the bound host, configured names and the callback host are accepted; a wildcard bind is not a name', async () => {
    const names = allowedHostNames({ bindHost: '0.0.0.0', allowedHosts: ['10.0.0.5', 'Door-GW.example.net', '::1'], callbackUrl: 'https://cb.example.net/webhooks/offision' });
    expect(names).toEqual(['10.0.0.5', 'door-gw.example.net', '[::1]', 'cb.example.net']);
    expect(allowedHostNames({ bindHost: '192.168.1.20', allowedHosts: [] })).toEqual(['192.168.1.20']);
    const { app } = setup({ allowedHosts: names });
    expect((await app.request('/health', { headers: { host: '10.0.0.5:8080' } })).status).toBe(200);
    expect((await app.request('/health', { headers: { host: 'cb.example.net' } })).status).toBe(200);
    expect((await app.request('/health', { headers: { host: '0.0.0.0:8080' } })).status).toBe(421);
    expect((await app.request('/health', { headers: { host: 'localhost:8080@evil' } })).status).toBe(421);
  });

  it('a state-changing request from a foreign Origin or a cross-site fetch is refused, nothing issued', async () => {
    const { app, issued } = setup();
    const body = { email: 'ana@example.com' };
    expect((await app.request('/api/qr/tokens', json(body, { origin: 'http://evil.example' }))).status).toBe(403);
    expect((await app.request('/api/qr/tokens', json(body, { origin: 'null' }))).status).toBe(403);
    // Same host name, another port: another origin (a different local web app).
    expect((await app.request('/api/qr/tokens', json(body, { origin: 'http://127.0.0.1:3000' }))).status).toBe(403);
    expect((await app.request('/api/qr/tokens', json(body, { 'sec-fetch-site': 'cross-site' }))).status).toBe(403);
    expect(issued).toEqual([]);
    // The operator's own page (same origin), a configured name, and a client without Origin (curl).
    expect((await app.request('/api/qr/tokens', json(body, { origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' }))).status).toBe(201);
    expect((await app.request('/api/qr/tokens', json(body, { origin: 'https://gateway.example.net' }))).status).toBe(201);
    expect((await app.request('/api/qr/tokens', json(body))).status).toBe(201);
    expect(issued).toHaveLength(3);
  });

  it('state-changing routes require application/json (415), reads do not', async () => {
    const { app, issued } = setup();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      const res = await app.request('/api/qr/tokens', json({ email: 'ana@example.com' }, { 'content-type': type }));
      expect(res.status, type).toBe(415);
    }
    const none = await app.request('/api/qr/tokens', { method: 'POST', body: '{"email":"ana@example.com"}', headers: { host: 'localhost' } });
    expect(none.status).toBe(415);
    expect(issued).toEqual([]);
    const charset = await app.request('/api/qr/tokens', json({ email: 'ana@example.com' }, { 'content-type': 'Application/JSON; charset=utf-8' }));
    expect(charset.status).toBe(201);
    expect((await app.request('/api/status', { headers: { host: 'localhost' } })).status).toBe(200);
  });

  it('every body is capped: 413 from the declared length or while reading, nothing issued', async () => {
    const { app, issued } = setup();
    const big = JSON.stringify({ email: 'ana@example.com', pad: 'x'.repeat(2000) });
    const declared = await app.request('/api/qr/tokens', json(JSON.parse(big), { 'content-length': String(big.length) }));
    expect(declared.status).toBe(413);
    // A chunked body with no declared length is counted as it is read.
    const stream = new ReadableStream<Uint8Array>({
      start(ctrl) {
        for (let i = 0; i < 10; i++) ctrl.enqueue(new Uint8Array(512).fill(0x20));
        ctrl.close();
      },
    });
    const chunked = await app.request('/api/qr/tokens', {
      method: 'POST',
      body: stream,
      headers: { host: 'localhost', 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(issued).toEqual([]);
    expect(await chunked.json()).toEqual({ error: 'body too large' });
  });

  it('the webhook keeps its own cap (not the API one) and is exempt from the browser checks, not from Host', async () => {
    const { app, webhookBodies } = setup();
    const body = 'x'.repeat(4000); // larger than the API cap of 1024
    const ok = await app.request('/webhooks/offision', { method: 'POST', body, headers: { host: 'gateway.example.net', 'content-type': 'application/json' } });
    expect(ok.status).toBe(200);
    expect(webhookBodies).toEqual([4000]);
    const foreign = await app.request('/webhooks/offision', { method: 'POST', body, headers: { host: 'evil.example', 'content-type': 'application/json' } });
    expect(foreign.status).toBe(421);
  });

  it('one error handler: refusals are JSON with a reason', async () => {
    const { app } = setup();
    const res = await app.request('/health', { headers: { host: 'evil.example' } });
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ error: 'unknown host' });
  });
});
