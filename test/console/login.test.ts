import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsoleEnv } from '../../src/console/operator.js';
import { hashPassword } from '../../src/console/passwords.js';
import { createHttpApp } from '../../src/http/app.js';
import { requireRole } from '../../src/http/console-auth/middleware.js';
import { LoginLimiter } from '../../src/http/console-auth/rate-limit.js';
import { SessionStore } from '../../src/http/console-auth/sessions.js';
import type { GatewayStatus } from '../../src/http/status.js';
import { Metrics } from '../../src/metrics.js';
import { recentChanges, recordChange } from '../../src/store/change-audit.js';
import { addOperator, countOperators, findOperator, removeOperator, setOperatorPassword } from '../../src/store/operators.js';
import type { Store } from '../../src/store/store.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { fileStore } from '../helpers/store.js';

/* Console sign-in through the whole HTTP app (app.request(), no socket): a real SQLite file for the accounts, the manual clock for expiry and lockout. */

const FAST = { N: 2 ** 10, r: 8, p: 1 };
const TOKEN = 'admin-token-123';

const status = (): GatewayStatus => ({
  site: 'hq', version: '0.1.0', startedAt: 0, now: 0, health: 'ok', checks: {}, index: { people: 0, cards: 0, grants: 0, doors: 0 },
  doors: [], readers: [], mqtt: { connected: true, url: 'mqtt://x' }, upstream: null, recent: [], alarms: [],
});

describe('console sign-in', () => {
  let store: Store;
  let close: () => void;
  let clock: FakeClock;
  let sessions: SessionStore;

  beforeEach(async () => {
    ({ store, close } = fileStore());
    clock = new FakeClock();
    sessions = new SessionStore(clock);
    addOperator(store, { name: 'alice', role: 'operator', passwordHash: await hashPassword('alice password 1', FAST) }, 1, 'cli:test');
    addOperator(store, { name: 'vic', role: 'viewer', passwordHash: await hashPassword('viewer password 1', FAST) }, 1, 'cli:test');
  });
  afterEach(() => close());

  /** The gateway's app with one state-changing route that writes a change_audit row, as an action would. */
  function app(opts: { token?: string; loopback?: boolean } = {}) {
    const api = new Hono<ConsoleEnv>()
      .get('/whoami', (c) => c.json({ operator: c.get('operator'), csrf: c.get('csrf') !== null }))
      .post('/act', requireRole('operator'), (c) => {
        store.transact((tx) => recordChange(tx, { at: clock.now(), actor: `console:${c.get('operator')!.name}`, action: 'test.act', target: 'front' }));
        return c.json({ ok: true });
      });
    return createHttpApp({
      status, metrics: new Metrics(), logger: silentLogger, authToken: opts.token, webhook: null, api: [api as unknown as Hono], allowedHosts: [], maxBodyBytes: 65_536,
      console: {
        sessions,
        limiter: new LoginLimiter(clock),
        accounts: { find: (n) => findOperator(store, n), count: () => countOperators(store) },
        loopback: opts.loopback ?? true,
        behindTlsProxy: false,
      },
    });
  }
  type App = ReturnType<typeof app>;
  const env = { incoming: { socket: { remoteAddress: '192.0.2.7' } } };
  const login = (a: App, name: string, password: string, cookie?: string) =>
    a.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, body: new URLSearchParams({ name, password, next: '/' }) }, env);
  const cookieOf = (res: Response) => /lintel_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  const page = (a: App, cookie?: string) => a.request('/', { headers: { accept: 'text/html', ...(cookie ? { cookie: `lintel_session=${cookie}` } : {}) } });
  const whoami = async (a: App, cookie: string) => (await (await a.request('/api/whoami', { headers: { cookie: `lintel_session=${cookie}` } })).json()) as { operator: unknown };
  const changes = () => recentChanges(store).filter((c) => c.action === 'test.act').length;

  it('signs in with the right password: a new HttpOnly, SameSite=Strict, Secure cookie and the way to /', async () => {
    const a = app();
    expect((await page(a)).headers.get('location')).toBe('/login?next=%2F');
    const form = await (await a.request('/login')).text();
    expect(form).toContain('<form method="post" action="/login">');
    expect(form).not.toContain('<script');
    const res = await login(a, 'alice', 'alice password 1');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/Path=\//);
    const id = cookieOf(res)!;
    expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    expect((await page(a, id)).status).toBe(200);
    expect(await whoami(a, id)).toEqual({ operator: { name: 'alice', role: 'operator' }, csrf: true });
  });

  it('refuses a wrong password and an unknown name alike (401, no cookie), and a malformed form (400)', async () => {
    const a = app();
    for (const [n, p] of [['alice', 'not her password'], ['mallory', 'alice password 1']] as const) {
      const res = await login(a, n, p);
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.text()).toContain('Wrong name or password.');
    }
    const bad = await a.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=alice' }, env);
    expect(bad.status).toBe(400);
    // The unknown name pays the dummy verify at the production scrypt cost: seconds on a shared box.
  }, 60_000);

  it('locks out after 5 failures (429 + Retry-After, even with the right password), longer each time, and lets the account in after', async () => {
    const a = app();
    for (let i = 0; i < 5; i++) expect((await login(a, 'alice', `wrong ${i}`)).status).toBe(401);
    const locked = await login(a, 'alice', 'alice password 1');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBe(15);
    expect(cookieOf(locked)).toBeUndefined();
    clock.advance(15_000);
    expect((await login(a, 'alice', 'wrong again')).status).toBe(401);
    expect(Number((await login(a, 'alice', 'alice password 1')).headers.get('retry-after'))).toBe(30); // doubled
    clock.advance(30_000);
    expect((await login(a, 'alice', 'alice password 1')).status).toBe(303);
    // The success cleared the account's count, not the address's own six failures: that address
    // stays locked out, while another address may try the account again.
    expect((await login(a, 'alice', 'wrong once more')).status).toBe(429);
    const elsewhere = { incoming: { socket: { remoteAddress: '198.51.100.9' } } };
    const other = await a.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: 'alice', password: 'wrong elsewhere' }) }, elsewhere);
    expect(other.status).toBe(401);
  });

  it('counts a guess when it starts: of 20 guesses sent at once, only 5 reach the password check', async () => {
    const a = app();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => login(a, 'alice', `parallel guess ${i}`)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });

  it('keeps at most maxSessions sessions: the oldest is dropped first', async () => {
    sessions = new SessionStore(clock, { idleMs: 60_000, absoluteMs: 120_000, maxSessions: 2 });
    const a = app();
    const first = cookieOf(await login(a, 'alice', 'alice password 1'))!;
    const second = cookieOf(await login(a, 'vic', 'viewer password 1'))!;
    const third = cookieOf(await login(a, 'alice', 'alice password 1'))!;
    expect(sessions.size()).toBe(2);
    expect((await page(a, first)).status).toBe(302);
    expect((await page(a, second)).status).toBe(200);
    expect((await page(a, third)).status).toBe(200);
  });

  it('refuses a state-changing request signed in by cookie without the CSRF token (403), and nothing is written', async () => {
    const a = app();
    const id = cookieOf(await login(a, 'alice', 'alice password 1'))!;
    const post = (headers: Record<string, string>) => a.request('/api/act', { method: 'POST', headers: { 'content-type': 'application/json', cookie: `lintel_session=${id}`, ...headers }, body: '{}' });
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-csrf-token': 'guessed' })).status).toBe(403);
    expect(changes()).toBe(0);
    const csrf = sessionsCsrf(id);
    expect((await post({ 'x-csrf-token': csrf })).status).toBe(200);
    expect(changes()).toBe(1);
    // Logout is a form post: without the form's _csrf it signs nobody out.
    const logout = (body: string) => a.request('/logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `lintel_session=${id}` }, body });
    expect((await logout('')).status).toBe(403);
    expect((await page(a, id)).status).toBe(200);
    const out = await logout(new URLSearchParams({ _csrf: csrf }).toString());
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/lintel_session=;/);
    expect((await page(a, id)).status).toBe(302);
  });

  /** The session's CSRF token, as the page would render it into its forms. */
  function sessionsCsrf(id: string): string {
    return sessions.touch(id)!.csrf;
  }

  it('a console form under /console carries _csrf: refused without it, and the handler still reads the form with it', async () => {
    const a = app();
    // As the page's routes will be mounted: after createHttpApp's /console/* middleware.
    a.route(
      '/console',
      new Hono<ConsoleEnv>().post('/act', requireRole('operator'), async (c) => {
        const door = (await c.req.parseBody()).door;
        store.transact((tx) => recordChange(tx, { at: clock.now(), actor: `console:${c.get('operator')!.name}`, action: 'test.act', target: String(door) }));
        return c.redirect('/', 303);
      }) as unknown as Hono,
    );
    const id = cookieOf(await login(a, 'alice', 'alice password 1'))!;
    const submit = (form: Record<string, string>) =>
      a.request('/console/act', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `lintel_session=${id}` }, body: new URLSearchParams(form) });
    expect((await submit({ door: 'front' })).status).toBe(403);
    expect((await submit({ door: 'front', _csrf: 'wrong' })).status).toBe(403);
    expect(changes()).toBe(0);
    expect((await submit({ door: 'front', _csrf: sessionsCsrf(id) })).status).toBe(303);
    expect(recentChanges(store).filter((c) => c.action === 'test.act').map((c) => [c.actor, c.target])).toEqual([['console:alice', 'front']]);
  });

  it('a lower role is 403 and writes nothing', async () => {
    const a = app();
    const id = cookieOf(await login(a, 'vic', 'viewer password 1'))!;
    const res = await a.request('/api/act', { method: 'POST', headers: { 'content-type': 'application/json', cookie: `lintel_session=${id}`, 'x-csrf-token': sessionsCsrf(id) }, body: '{}' });
    expect(res.status).toBe(403);
    expect(changes()).toBe(0);
  });

  it('gives a new session id at sign-in: an id planted before (fixation) is void after it', async () => {
    const a = app();
    const planted = cookieOf(await login(a, 'vic', 'viewer password 1'))!;
    const res = await login(a, 'alice', 'alice password 1', `lintel_session=${planted}`);
    const fresh = cookieOf(res)!;
    expect(fresh).not.toBe(planted);
    expect((await page(a, planted)).status).toBe(302);
    expect(await whoami(a, fresh)).toMatchObject({ operator: { name: 'alice' } });
  });

  it('signs out after 30 idle minutes, and 12 hours after sign-in however active', async () => {
    const a = app();
    const idle = cookieOf(await login(a, 'alice', 'alice password 1'))!;
    clock.advance(29 * 60_000);
    expect((await page(a, idle)).status).toBe(200); // a request resets the idle time
    clock.advance(29 * 60_000);
    expect((await page(a, idle)).status).toBe(200);
    clock.advance(30 * 60_000);
    expect((await page(a, idle)).status).toBe(302);

    const busy = cookieOf(await login(a, 'alice', 'alice password 1'))!;
    for (let t = 0; t < 12 * 60; t += 20) {
      expect((await page(a, busy)).status).toBe(200);
      clock.advance(20 * 60_000);
    }
    expect((await page(a, busy)).status).toBe(302);
  });

  it('a removed account is signed out at its next request; a new password ends the sessions signed in with the old one', async () => {
    const a = app();
    const id = cookieOf(await login(a, 'alice', 'alice password 1'))!;
    removeOperator(store, 'alice', 2, 'cli:test');
    expect((await page(a, id)).status).toBe(302);
    expect(sessions.size()).toBe(0);

    const old = cookieOf(await login(a, 'vic', 'viewer password 1'))!;
    setOperatorPassword(store, 'vic', await hashPassword('a new viewer password', FAST), 3, 'cli:test');
    const fresh = cookieOf(await login(a, 'vic', 'a new viewer password'))!;
    expect((await page(a, old)).status).toBe(302);
    expect((await page(a, fresh)).status).toBe(200);
  });

  it('the admin token as Bearer (or Basic password) is the admin "token", needs no CSRF token, and a wrong one is 401', async () => {
    const a = app({ token: TOKEN });
    const who = await (await a.request('/api/whoami', { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    expect(who).toEqual({ operator: { name: 'token', role: 'admin' }, csrf: false });
    const act = await a.request('/api/act', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '{}' });
    expect(act.status).toBe(200);
    expect(changes()).toBe(1);
    const basic = `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`;
    expect((await a.request('/', { headers: { authorization: basic } })).status).toBe(200);
    const wrong = await a.request('/api/act', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body: '{}' });
    expect(wrong.status).toBe(401);
    expect(changes()).toBe(1);
  });

  it('on loopback with no token and no accounts the page is open to look at, not to act; an account or a token closes it', async () => {
    for (const n of ['alice', 'vic']) removeOperator(store, n, 2, 'cli:test');
    const open = app();
    expect((await page(open)).status).toBe(200);
    expect((await open.request('/metrics')).status).toBe(200);
    expect((await open.request('/api/act', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect(await (await open.request('/login')).text()).toContain('lintel operator add');
    expect((await page(app({ loopback: false }))).status).toBe(401);
    // With the token the only credential, a browser gets the Basic challenge it always had.
    const tokenOnly = await page(app({ token: TOKEN }));
    expect(tokenOnly.status).toBe(401);
    expect(tokenOnly.headers.get('www-authenticate')).toMatch(/^Basic /);
    addOperator(store, { name: 'alice', role: 'admin', passwordHash: await hashPassword('alice password 1', FAST) }, 3, 'cli:test');
    expect((await page(open)).status).toBe(302);
  });

  it('only sends to a local path after sign-in (no open redirect)', async () => {
    const a = app();
    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const res = await a.request('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: 'alice', password: 'alice password 1', next }) }, env);
      expect(res.headers.get('location')).toBe('/');
    }
  });
});
