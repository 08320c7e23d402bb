import type { MiddlewareHandler } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsoleEnv } from '../../src/console/operator.js';
import { createHttpApp } from '../../src/http/app.js';
import { createConsole } from '../../src/http/console/console-app.js';
import { Metrics } from '../../src/metrics.js';
import { silentLogger } from '../../src/util/log.js';
import { fixedSession, form, formCsrf } from '../helpers/console-fixtures.js';
import { consoleSite } from './console-fixture-site.js';

/*
 * The console on the gateway's app (http/app.ts): it serves /, its session runs on its own
 * routes only (not in front of /health or /api), its forms pass the browser checks without
 * JSON while a foreign origin is still refused, and /api/status never carries a person id.
 */

let site: ReturnType<typeof consoleSite>;
afterEach(() => site?.close());

function gatewayApp(withConsole: boolean) {
  site = consoleSite();
  const sessions: string[] = [];
  const inner = fixedSession({ name: 'olga', role: 'operator' }, 'tok-1');
  const session: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    sessions.push(c.req.path);
    return inner(c, next);
  };
  const status = () => ({ ...oneDoorStatus(), recent: site.recent.list() });
  const consoleApp = withConsole
    ? createConsole({ session, csrf: formCsrf, actions: site.actions, status, live: { recent: site.recent, onDecision: () => undefined }, store: site.store, timeZone: () => 'UTC', clock: site.clock, logger: silentLogger, metrics: new Metrics() })
    : null;
  const app = createHttpApp({ status, metrics: new Metrics(), logger: silentLogger, authToken: 'op-token', parts: consoleApp ? [{ console: () => consoleApp.app }] : [], allowedHosts: [], maxBodyBytes: 65_536, timeZone: 'UTC' });
  return { app, sessions };
}

/** A healthy one-door gateway's status. */
function oneDoorStatus() {
  return {
    site: 'hq', version: '0.1.0', startedAt: 0, now: 0, health: 'ok' as const, checks: {},
    index: { people: 0, cards: 0, grants: 0, doors: 1 },
    doors: [{ id: 'front', name: 'Front', driver: 'lintel', acks: null, online: true, relay: 'locked', contact: 'closed', lastAck: null, ackLatencyMs: null, hold: null }],
    readers: [], mqtt: { connected: true, url: 'embedded' }, upstream: null, recent: [], alarms: [],
  };
}

const auth = { authorization: `Basic ${Buffer.from('operator:op-token').toString('base64')}` };

describe('the console on the gateway app', () => {
  it('serves / and runs its session on its own routes only', async () => {
    const { app, sessions } = gatewayApp(true);
    const page = await app.request('http://127.0.0.1/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await app.request('http://127.0.0.1/health')).status).toBe(200);
    expect((await app.request('http://127.0.0.1/api/status', { headers: auth })).status).toBe(200);
    expect(sessions).toEqual(['/']);
  });

  it('takes its form posts through the browser checks: same origin passes, a foreign origin is refused', async () => {
    const { app } = gatewayApp(true);
    const post = form({ _csrf: 'tok-1', door: 'front' });
    const ok = await app.request('http://127.0.0.1/actions/door.pulse', { ...post, headers: { ...post.headers, origin: 'http://127.0.0.1' } });
    expect(ok.status).toBe(303);
    const foreign = await app.request('http://127.0.0.1/actions/door.pulse', { ...post, headers: { ...post.headers, origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(site.actions.runs).toHaveLength(1);
  });

  it('keeps the person ids of the recent ring out of /api/status', async () => {
    const { app } = gatewayApp(true);
    site.recent.push({ at: 1, readerId: 'desk', doorId: 'front', credential: '*****61', kind: 'card', result: 'granted', reason: 'granted', relay: 'sent' }, 4242);
    const text = await (await app.request('http://127.0.0.1/api/status', { headers: auth })).text();
    expect(text).toContain('*****61');
    expect(text).not.toContain('4242');
    expect(text).not.toContain('personId');
  });

  it('without a console, / is the plain status page behind operator auth', async () => {
    const { app } = gatewayApp(false);
    expect((await app.request('http://127.0.0.1/')).status).toBe(401);
    const page = await app.request('http://127.0.0.1/', { headers: auth });
    expect(await page.text()).toContain('<meta http-equiv="refresh" content="5"/>');
  });
});
