import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { readCapped } from './body-buffer.js';
import { browserWriteRefusal, declaredOverCap, hostAllowed } from './request-guards.js';

/*
 * Why /api/v1 never reaches the main thread's Hono app. The main thread decides badges and
 * publishes unlocks; under eight provisioning clients, each request's routing, token lookup,
 * zod validation and JSON (de)serialization there allocated ~70 KB and took ~0.5 ms of its CPU,
 * and the young-generation collections that followed paused the badge path (issue 12's
 * bench). So the main thread only does what must happen where the socket is: the Host check,
 * the body cap, the browser checks (the same functions the Hono middleware calls, in the same
 * order: http/app.ts), reading the body into one buffer, and writing the answer's bytes.
 * Everything else runs on the API thread (api/v1/writer-thread.ts), behind `endpoint`.
 */

/** One /api/v1 request as read off the socket: nothing parsed but what the guards needed. */
export interface V1Request {
  method: string;
  /** The path and query as sent. */
  url: string;
  /** node's rawHeaders: name, value, name, value… */
  rawHeaders: string[];
  scheme: 'http' | 'https';
  /** Null for GET and HEAD; moved (transferred) to the thread, never copied. */
  body: ArrayBuffer | null;
}

export interface V1Reply {
  status: number;
  headers: Array<[string, string]>;
  body: ArrayBuffer | null;
}

/** Who answers a v1 request (parts/api-part.ts: the API thread); never rejects (a failure is a reply: 503 and the API's error shape). */
export interface V1Endpoint {
  answer(req: V1Request): Promise<V1Reply>;
}

export interface V1ForwardOptions {
  endpoint: V1Endpoint;
  allowedHosts: readonly string[];
  /** The general cap (http.maxBodyBytes), and the bulk route's own, by path. */
  maxBodyBytes: number;
  bulk: { path: string; maxBytes: number };
  logger: Logger;
}

export const V1_PATH = '/api/v1';
export const isV1 = (path: string): boolean => path === V1_PATH || path.startsWith(`${V1_PATH}/`);
const NO_BODY = new Set(['GET', 'HEAD']);

/** An ArrayBuffer of exactly the body: a small Buffer is a view into node's shared pool. */
function ownBytes(body: Buffer): ArrayBuffer {
  const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
  return (whole ? body.buffer : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) as ArrayBuffer;
}

/** The path as Hono routes it: without the query, percent-decoded (an undecodable one as sent). */
function routedPath(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

/** Writes a reply; `close` ends the connection after it (a refused upload is never read to its end). */
function writeReply(res: ServerResponse, reply: V1Reply, close = false): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = reply.status;
  for (const [name, value] of reply.headers) res.appendHeader(name, value);
  if (close) res.setHeader('connection', 'close');
  res.end(reply.body === null ? undefined : Buffer.from(reply.body));
}

/** A JSON answer made here rather than by the v1 app (the guards' refusals, the API thread's 503s and last-resort 500). */
export function jsonReply(status: number, value: unknown, headers: Array<[string, string]> = []): V1Reply {
  return { status, headers: [['content-type', 'application/json'], ...headers], body: ownBytes(Buffer.from(JSON.stringify(value))) };
}

/** The main app's guard answer, `{ error }`, as http/app.ts gives it. */
const refusal = (status: number, error: string): V1Reply => jsonReply(status, { error });

/** Returns a handler that takes a v1 request and says true, or says false and leaves it to the Hono app. */
export function v1Forward(opts: V1ForwardOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = hostAllowed(opts.allowedHosts);
  const configured = new Set(opts.allowedHosts);
  const header = (req: IncomingMessage) => (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };

  // Runs in promise callbacks: whatever goes wrong writing (a header node refuses, a socket gone) ends this request, never the process.
  const send = (res: ServerResponse, reply: V1Reply, close = false) => {
    try {
      writeReply(res, reply, close);
    } catch (err) {
      opts.logger.error({ err: errorMessage(err) }, 'api answer could not be written');
      res.destroy();
    }
  };

  const forward = (req: IncomingMessage, res: ServerResponse, method: string, url: string, body: ArrayBuffer | null) => {
    // A browser check refuses on headers alone; it runs after the body is read, as in the Hono app (host, cap, browser).
    const refused = browserWriteRefusal(method, header(req), req.headers.host ?? '', configured, false);
    if (refused !== null) return send(res, refusal(refused.status, refused.error));
    const scheme = (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
    opts.endpoint.answer({ method, url, rawHeaders: req.rawHeaders, scheme, body }).then(
      (reply) => send(res, reply),
      (err: unknown) => {
        // The endpoint answers failures itself; this is a bug's last stop, never the process's.
        opts.logger.error({ err: errorMessage(err) }, 'api request forwarding failed');
        send(res, refusal(500, 'internal error'));
      },
    );
  };

  return (req, res) => {
    const url = req.url ?? '';
    const path = routedPath(url);
    if (!isV1(path)) return false;
    const method = req.method ?? 'GET';
    if (!allowed(req.headers.host ?? '')) {
      send(res, refusal(421, 'unknown host'));
      return true;
    }
    if (NO_BODY.has(method)) {
      forward(req, res, method, url, null);
      return true;
    }
    const maxBytes = path === opts.bulk.path ? opts.bulk.maxBytes : opts.maxBodyBytes;
    // Refused before a byte is read; the connection closes so the rest is never read either.
    if (declaredOverCap(req.headers, maxBytes)) {
      send(res, refusal(413, 'body too large'), true);
      return true;
    }
    readCapped(req, maxBytes)
      .then((body) => {
        if (body === 'too_large') return send(res, refusal(413, 'body too large'), true);
        if (body === 'incomplete') return send(res, refusal(400, 'request body incomplete'), true);
        forward(req, res, method, url, ownBytes(body));
      })
      .catch((err: unknown) => {
        opts.logger.error({ err: errorMessage(err) }, 'api request forwarding failed');
        send(res, refusal(500, 'internal error'));
      });
    return true;
  };
}
