import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireScope } from '../../../src/api/v1/actor.js';
import { ApiError } from '../../../src/api/v1/errors.js';
import { tokenAuth } from '../../../src/api/v1/token-auth.js';
import { createToken, listTokens, revokeToken } from '../../../src/store/api-tokens.js';
import type { Store } from '../../../src/store/store.js';
import { fileStore } from '../../helpers/store.js';

/*
 * The v1 token middleware over a real SQLite file, in front of a read route and a write route
 * that call requireScope as the provisioning routes do. The error handler is the v1 shape.
 */

describe('tokenAuth', () => {
  let store: Store;
  let close: () => void;
  let now = 1_800_000_000_000;
  const clock = { now: () => now, setTimeout: () => ({ cancel() {} }), setInterval: () => ({ cancel() {} }) };

  function app(operatorToken: string | undefined): Hono {
    const a = new Hono();
    a.use('*', tokenAuth({ store, operatorToken, clock }));
    a.get('/people', (c) => c.json({ caller: requireScope(c, 'read').name }));
    a.put('/people/x', (c) => c.json({ caller: requireScope(c, 'write').name }));
    a.onError((err, c) => (err instanceof ApiError ? c.json(err.body(), err.status) : c.json({ error: { code: 'internal' } }, 500)));
    return a;
  }
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  beforeEach(() => {
    ({ store, close } = fileStore());
  });
  afterEach(() => {
    close();
  });

  it('fails closed: no token is a 401 with a Bearer challenge even when no operator token is configured', async () => {
    const res = await app(undefined).request('/people');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="lintel"');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await app(undefined).request('/people', { headers: { authorization: 'Basic YTpi' } })).status).toBe(401);
  });

  it('a read token reads and is refused a write route with 403 forbidden_scope; a write token writes', async () => {
    const read = createToken(store, { name: 'dash', scope: 'read' }, now, 'cli:t');
    const write = createToken(store, { name: 'platform', scope: 'write' }, now, 'cli:t');
    const a = app(undefined);
    expect(await (await a.request('/people', bearer(read.token))).json()).toEqual({ caller: 'api:dash' });
    const refused = await a.request('/people/x', { method: 'PUT', ...bearer(read.token) });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden_scope');
    expect(await (await a.request('/people/x', { method: 'PUT', ...bearer(write.token) })).json()).toEqual({ caller: 'api:platform' });
  });

  it('an unknown or revoked token is a 401; the configured operator token is admin', async () => {
    const made = createToken(store, { name: 'old', scope: 'admin' }, now, 'cli:t');
    const a = app('operator-secret-0123456789');
    expect((await a.request('/people', bearer(made.token))).status).toBe(200);
    revokeToken(store, 'old', now, 'cli:t');
    expect((await a.request('/people', bearer(made.token))).status).toBe(401);
    expect((await a.request('/people', bearer(`${made.token}x`))).status).toBe(401);
    expect(await (await a.request('/people/x', { method: 'PUT', ...bearer('operator-secret-0123456789') })).json()).toEqual({ caller: 'api:operator' });
  });

  it('records last use at most once a minute per token', async () => {
    const made = createToken(store, { name: 'p', scope: 'read' }, now, 'cli:t');
    const a = app(undefined);
    await a.request('/people', bearer(made.token));
    const first = listTokens(store)[0]!.lastUsedAt;
    expect(first).toBe(now);
    now += 30_000;
    await a.request('/people', bearer(made.token));
    expect(listTokens(store)[0]!.lastUsedAt).toBe(first);
    now += 31_000;
    await a.request('/people', bearer(made.token));
    expect(listTokens(store)[0]!.lastUsedAt).toBe(now);
  });
});
