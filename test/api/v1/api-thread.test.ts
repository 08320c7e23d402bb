import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BULK_PATH, MAX_BULK_BYTES } from '../../../src/api/v1/bulk-routes.js';
import type { ApiLive } from '../../../src/api/v1/thread-messages.js';
import { ApiWriter } from '../../../src/api/v1/writer.js';
import { serveGateway } from '../../../src/http/serve.js';
import type { V1Reply, V1Request } from '../../../src/http/v1-forward.js';
import { createToken } from '../../../src/store/api-tokens.js';
import { recentChanges } from '../../../src/store/change-audit.js';
import { readChangeMark } from '../../../src/store/change-log.js';
import type { Store } from '../../../src/store/store.js';
import { silentLogger } from '../../../src/util/log.js';
import { builtEntry } from '../../../src/util/worker-entry.js';
import { fileStore } from '../../helpers/store.js';
import { tempDir } from '../../helpers/tmp.js';

/*
 * /api/v1 served by the API thread behind the gateway's real HTTP server (needs `npm run
 * build`): the main thread's Hono app is never asked for a v1 request, the guards answer on
 * the main thread before anything is forwarded, a write's answer waits for the index, a thread
 * that dies answers 503 in the API's shape and comes back, and a reload reaches the thread.
 */

const live: ApiLive = { knownGroups: ['staff'], bookingConfig: { resources: [], access: { graceBeforeMinutes: 30, graceAfterMinutes: 30 } }, locations: [], qrTtlSeconds: 300, operatorToken: undefined, logLevel: 'silent' };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with any headers (Host included, which fetch will not set), over a real socket. */
function call(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('the API thread behind the gateway server', () => {
  let store: Store;
  let close: () => void;
  let server: Server;
  let port: number;
  let writer: ApiWriter;
  let token: string;
  /** Requests that reached the main thread's Hono app, and those handed to the thread. */
  let honoCalls: string[];
  let forwarded: number;
  let crashes: number;
  /** The index's wait: each commit's mark, and a hold the test can keep closed. */
  let marks: number[];
  let indexHold: Promise<void>;
  let releaseIndex: () => void;

  const start = async (entry?: URL) => {
    writer = new ApiWriter({ dbFile: store.db.name, key: randomBytes(32), logger: silentLogger, live, onCrash: () => crashes++, afterCommit: (seq) => (marks.push(seq), indexHold), ...(entry ? { entry } : {}) });
    writer.start();
    const endpoint = { answer: (req: V1Request): Promise<V1Reply> => (forwarded++, writer.answer(req)) };
    const app = { fetch: (req: Request) => (honoCalls.push(new URL(req.url).pathname), new Response('{"error":"not found"}', { status: 404 })) };
    const served = await serveGateway({ app, host: '127.0.0.1', port: 0, logger: silentLogger, v1: { endpoint, allowedHosts: ['gate.example'], maxBodyBytes: 1024, bulk: { path: BULK_PATH, maxBytes: MAX_BULK_BYTES } } });
    server = served.server;
    port = served.address.port;
  };
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeEach(() => {
    ({ store, close } = fileStore());
    token = createToken(store, { scope: 'write', name: 'platform' }, Date.now(), 'test').token;
    honoCalls = [];
    forwarded = 0;
    crashes = 0;
    marks = [];
    indexHold = Promise.resolve();
    releaseIndex = () => undefined;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await writer.stop();
    close();
  });

  it('answers /api/v1 from the thread, never from the main app, and holds a write until the index has its commit', async () => {
    await start();
    indexHold = new Promise<void>((resolve) => (releaseIndex = resolve));
    let settled = false;
    const put = call(port, 'PUT', '/api/v1/people/ana@example.com', { headers: auth(), body: JSON.stringify({ name: 'Ana', groups: ['staff'] }) }).finally(() => (settled = true));
    // A GET sent after the PUT's commit comes back while the PUT's answer is still held for the index.
    for (let i = 0; i < 500 && marks.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(marks).toEqual([readChangeMark(store.db).seq]);
    const read = await call(port, 'GET', '/api/v1/people/ana@example.com', { headers: auth() });
    expect(read.status).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ email: 'ana@example.com', name: 'Ana', groups: [{ group: 'staff' }] });
    expect(settled).toBe(false);
    releaseIndex();
    const created = await put;
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBeDefined();
    // The audit names the token, as when the API ran on the main thread.
    expect(recentChanges(store, 1).map((c) => [c.action, c.actor])).toEqual([['person.create', 'api:platform']]);
    expect((await call(port, 'GET', '/api/v1/openapi.json')).status).toBe(200);
    // Percent-encoded as Hono would decode it: still the thread's, never the main app's.
    expect((await call(port, 'GET', '/api/%761/openapi.json')).status).toBe(200);
    expect(JSON.parse((await call(port, 'GET', '/api/v1/people/ana@example.com')).body)).toMatchObject({ error: { code: 'unauthorized' } });
    expect(honoCalls).toEqual([]);
    // Anything else is still the app's.
    expect((await call(port, 'GET', '/health')).status).toBe(404);
    expect(honoCalls).toEqual(['/health']);
  });

  it('refuses on the main thread, before anything is forwarded, what the Hono guards refused', async () => {
    await start();
    const body = JSON.stringify({ name: 'Eve' });
    const refused = [
      await call(port, 'PUT', '/api/v1/people/eve@example.com', { headers: { ...auth(), host: 'evil.example' }, body }),
      await call(port, 'PUT', '/api/v1/people/eve@example.com', { headers: { ...auth(), origin: 'https://evil.example' }, body }),
      await call(port, 'PUT', '/api/v1/people/eve@example.com', { headers: { ...auth(), 'sec-fetch-site': 'cross-site' }, body }),
      await call(port, 'PUT', '/api/v1/people/eve@example.com', { headers: auth(), body: JSON.stringify({ name: 'x'.repeat(2000) }) }),
    ];
    expect(refused.map((r) => [r.status, JSON.parse(r.body)])).toEqual([
      [421, { error: 'unknown host' }],
      [403, { error: 'foreign origin' }],
      [403, { error: 'cross-site request' }],
      [413, { error: 'body too large' }],
    ]);
    expect(refused[3]!.headers.connection).toBe('close');
    expect(forwarded).toBe(0);
    // A configured name and its own origin pass.
    const ok = await call(port, 'PUT', '/api/v1/people/eve@example.com', { headers: { ...auth(), host: 'gate.example:8080', origin: 'https://gate.example' }, body });
    expect(ok.status).toBe(201);
    expect(forwarded).toBe(1);
  });

  it('a thread that dies answers 503 in the API error shape, is counted, and a new one serves the next requests', async () => {
    // The real thread, behind a first listener that ends it at one path: a crash mid-request.
    const dir = tempDir();
    const crashing = join(dir.dir, 'crashing-api-thread.mjs');
    const real = builtEntry('../../../src/api/v1/writer-thread.js', import.meta.url).href;
    // Imported first, so its listener is there before any message; this one ends the thread in the same dispatch.
    writeFileSync(crashing, `import ${JSON.stringify(real)};\nimport { parentPort } from 'node:worker_threads';\nparentPort.on('message', (batch) => { if (Array.isArray(batch) && batch.some((m) => m.kind === 'http' && m.req.url === '/api/v1/crash')) process.exit(7); });\n`);
    try {
      await start(pathToFileURL(crashing));
      expect((await call(port, 'PUT', '/api/v1/people/ana@example.com', { headers: auth(), body: JSON.stringify({ name: 'Ana' }) })).status).toBe(201);
      const died = await call(port, 'GET', '/api/v1/crash', { headers: auth() });
      expect(died.status).toBe(503);
      expect(died.headers['retry-after']).toBe('1');
      expect(JSON.parse(died.body)).toMatchObject({ error: { code: 'api_unavailable' } });
      expect(crashes).toBe(1);
      // Restarted after a backoff: requests meanwhile get the same 503, then answers again.
      let back: Answer | undefined;
      for (let i = 0; i < 200; i++) {
        back = await call(port, 'GET', '/api/v1/people/ana@example.com', { headers: auth() });
        if (back.status !== 503) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(back?.status).toBe(200);
      expect((await call(port, 'PUT', '/api/v1/people/bo@example.com', { headers: auth(), body: JSON.stringify({ name: 'Bo' }) })).status).toBe(201);
      expect(crashes).toBe(1);
    } finally {
      dir.cleanup();
    }
  });

  it('a reload reaches the thread: a group added is usable at the next request', async () => {
    await start();
    const put = () => call(port, 'PUT', '/api/v1/people/ana@example.com', { headers: auth(), body: JSON.stringify({ name: 'Ana', groups: ['lab'] }) });
    expect(JSON.parse((await put()).body)).toMatchObject({ error: { code: 'unknown_group' } });
    writer.setLive({ ...live, knownGroups: ['staff', 'lab'] });
    const after = await put();
    expect(after.status).toBe(201);
    expect(JSON.parse(after.body)).toMatchObject({ groups: [{ group: 'lab' }] });
  });
});
