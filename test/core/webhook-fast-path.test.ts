import { Hono } from 'hono';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WEBHOOK_PATH } from '../../src/http/app.js';
import { serveGateway } from '../../src/http/serve.js';
import type { CallbackEndpoint } from '../../src/http/webhook-fast-path.js';
import type { CallbackReply } from '../../src/upstream/upstream-link.js';
import { silentLogger } from '../../src/util/log.js';

/*
 * The callback fast path on a real loopback server: the same Host rule and body cap as the
 * Hono app, the link's answer relayed as it is, and everything else left to the app.
 */

const MAX = 1000;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function server() {
  const seen: Array<{ id: string | undefined; signature: string | undefined; body: string }> = [];
  let refused = 0;
  const endpoint: CallbackEndpoint = {
    answerCallback: (header, body) => {
      seen.push({ id: header('webhook-id'), signature: header('webhook-signature'), body: body.toString() });
      return Promise.resolve({ status: 200, headers: { 'content-type': 'application/json', 'x-from': 'link' }, body: '{"status":"accepted"}' });
    },
    refuseTooLarge: (): CallbackReply => (refused++, { status: 413, headers: { 'content-type': 'application/json' }, body: '{"error":"body too large"}' }),
  };
  const app = new Hono();
  app.all('*', (c) => c.json({ from: 'hono', path: c.req.path }, 404));
  const webhook = { route: (path: string) => (path === WEBHOOK_PATH ? { endpoint, maxBytes: MAX } : null), allowedHosts: ['gw.example.com'] };
  const { server: srv, address } = await serveGateway({ app, host: '127.0.0.1', port: 0, logger: silentLogger, webhook });
  closers.push(() => new Promise((r) => srv.close(() => r())));
  return { url: `http://127.0.0.1:${address.port}`, port: address.port, seen, refused: () => refused };
}

/** A raw request, so Host and chunked bodies are what the test says. */
function raw(port: number, opts: { path: string; host: string; headers?: Record<string, string>; chunks: string[] }): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: opts.path, headers: { host: opts.host, ...opts.headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: -1, body: '' }));
    for (const c of opts.chunks) req.write(c);
    req.end();
  });
}

describe('webhook fast path', () => {
  it('hands the headers and body to the link and relays its answer as it is', async () => {
    const s = await server();
    const res = await fetch(`${s.url}/webhooks/offision`, { method: 'POST', headers: { 'webhook-id': 'msg_1', 'webhook-signature': 'v1,abc' }, body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-from')).toBe('link');
    expect(await res.json()).toEqual({ status: 'accepted' });
    expect(s.seen).toEqual([{ id: 'msg_1', signature: 'v1,abc', body: '{"a":1}' }]);
  });

  it('a configured host name passes; a foreign one gets 421 and the link hears nothing', async () => {
    const s = await server();
    expect((await raw(s.port, { path: '/webhooks/offision', host: 'gw.example.com', chunks: ['{}'] })).status).toBe(200);
    const foreign = await raw(s.port, { path: '/webhooks/offision', host: 'evil.example.net', chunks: ['{}'] });
    expect(foreign).toEqual({ status: 421, body: '{"error":"unknown host"}' });
    expect(s.seen).toHaveLength(1);
  });

  it('a declared length over the cap is refused before reading; a chunked body at the first byte past it', async () => {
    const s = await server();
    const declared = await raw(s.port, { path: '/webhooks/offision', host: 'localhost', headers: { 'content-length': String(MAX + 1) }, chunks: ['x'.repeat(MAX + 1)] });
    expect(declared.status).toBe(413);
    const chunked = await raw(s.port, { path: '/webhooks/offision', host: 'localhost', chunks: ['x'.repeat(600), 'y'.repeat(600)] });
    expect(chunked.status).toBe(413);
    expect(s.seen).toHaveLength(0);
    expect(s.refused()).toBe(2);
  });

  it('other methods, paths and a query string are left to the app', async () => {
    const s = await server();
    for (const [method, path] of [['GET', '/webhooks/offision'], ['POST', '/webhooks/offision?x=1'], ['POST', '/webhooks/offision/']] as const) {
      const res = await fetch(`${s.url}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
      expect(await res.json(), `${method} ${path}`).toMatchObject({ from: 'hono' });
    }
    expect(s.seen).toHaveLength(0);
  });
});
