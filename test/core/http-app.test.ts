import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/http/app.js';
import type { GatewayStatus } from '../../src/http/status.js';
import { Metrics } from '../../src/metrics.js';
import { silentLogger } from '../../src/util/log.js';

function status(over: Partial<GatewayStatus> = {}): GatewayStatus {
  return {
    site: 'hq',
    version: '0.1.0',
    startedAt: 0,
    now: Date.parse('2026-11-22T10:00:00Z'),
    health: 'ok',
    checks: { database: { ok: true, detail: 'open' } },
    index: { people: 1, cards: 1, grants: 1, doors: 1 },
    doors: [{ id: 'front', name: 'Front <b>', driver: 'lintel', acks: 'command-id', online: true, relay: 'locked', contact: 'closed', lastAck: null, ackLatencyMs: null, hold: null }],
    readers: [],
    mqtt: { connected: true, url: 'mqtt://127.0.0.1:1883' },
    upstream: null,
    recent: [
      { at: 0, readerId: 'r1', doorId: 'front', credential: '****1001', kind: 'card', result: 'granted', reason: 'granted', relay: 'sent' },
    ],
    alarms: [],
    ...over,
  };
}

function app(opts: { token?: string; st?: GatewayStatus; api?: Hono[] } = {}) {
  const metrics = new Metrics();
  metrics.decisions.inc({ result: 'granted', reason: 'granted' });
  return createHttpApp({ status: () => opts.st ?? status(), metrics, logger: silentLogger, authToken: opts.token, webhook: null, api: opts.api ?? [], allowedHosts: [], maxBodyBytes: 65_536 });
}

describe('http app', () => {
  it('health is public and says what is degraded; failing answers 503', async () => {
    const ok = await app({ token: 't' }).request('/health');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ok', site: 'hq' });
    const failing = await app({ st: status({ health: 'failing' }) }).request('/health');
    expect(failing.status).toBe(503);
  });

  it('status page escapes what it shows and lists masked decisions', async () => {
    const res = await app().request('/');
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('Front &lt;b&gt;');
    expect(html).toContain('****1001');
    expect(html).not.toContain('Front <b>');
  });

  it('status page names mapped resources the platform does not have, escaped', async () => {
    const upstream = { state: 'ok', lastError: null, lastSuccessAt: 0, unknownResources: ['R-404', '<R>'], lastCallbackAt: null, lastReconcile: null, subscriptions: [], detail: {} };
    const html = await (await app({ st: status({ upstream }) }).request('/')).text();
    expect(html).toContain('Mapped resources the platform does not have');
    expect(html).toContain('R-404, &lt;R&gt;');
    const none = await (await app({ st: status({ upstream: { ...upstream, unknownResources: [] } }) }).request('/')).text();
    expect(none).not.toContain('does not have');
  });

  it('a locked reader is an alarm on the page and in /api/status', async () => {
    const until = Date.parse('2026-11-22T10:00:30Z');
    const alarms = [{ kind: 'reader_locked' as const, readerId: 'gate<a>', until, detail: 'too many unknown cards' }];
    const a = app({ st: status({ alarms }) });
    const html = await (await a.request('/')).text();
    expect(html).toContain('Alarms');
    expect(html).toContain('gate&lt;a&gt;');
    expect(html).toContain('2026-11-22 10:00:30');
    expect(await (await a.request('/api/status')).json()).toMatchObject({ alarms: [{ kind: 'reader_locked', readerId: 'gate<a>' }] });
    expect(await (await app().request('/')).text()).not.toContain('Alarms');
  });

  it('metrics in Prometheus text format', async () => {
    const res = await app().request('/metrics');
    expect(await res.text()).toContain('lintel_decisions_total{result="granted",reason="granted"} 1');
  });

  it('operator auth: bearer or basic, everything else 401', async () => {
    const api = new Hono().get('/ping', (c) => c.json({ pong: true }));
    const a = app({ token: 's3cret', api: [api] });
    expect((await a.request('/api/status')).status).toBe(401);
    expect((await a.request('/api/ping')).status).toBe(401);
    expect((await a.request('/')).headers.get('www-authenticate')).toMatch(/Basic/);
    expect((await a.request('/api/ping', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await a.request('/api/ping', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    const basic = `Basic ${Buffer.from('op:s3cret').toString('base64')}`;
    expect((await a.request('/api/status', { headers: { authorization: basic } })).status).toBe(200);
  });

  it('unknown routes 404 and handler errors 500 without details', async () => {
    const boom = new Hono().get('/boom', () => {
      throw new Error('database path /secret/x');
    });
    const a = app({ api: [boom] });
    expect((await a.request('/nope')).status).toBe(404);
    const res = await a.request('/api/boom');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
  });
});
