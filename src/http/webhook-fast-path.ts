import type { Context } from 'hono';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallbackReply } from '../upstream/upstream-link.js';
import { errorMessage } from '../util/errors.js';
import { readCapped } from '../util/read-capped.js';
import type { Logger } from '../util/log.js';
import { hostAllowed } from './request-guards.js';

/*
 * Why the platform's callbacks skip Hono on the gateway's own server. At 200 callbacks/s,
 * turning each Node request into a Web Request (headers object, AbortSignal, a ReadableStream
 * for the body), routing it through the middleware and turning the Response back cost ~0.75 ms
 * of main thread each, a fifth of the load profile's main-thread time, for a route that needs
 * none of it: one path per link, one method, a Host check, a body cap, and bytes handed to the upstream
 * thread. The rules are the app's own (hostAllowed, upstream.maxCallbackBytes, the link's
 * answer); anything else, a query string included, goes to the Hono app as before.
 */

export interface CallbackEndpoint {
  answerCallback(header: (name: string) => string | undefined, body: Buffer): Promise<CallbackReply>;
  refuseTooLarge(): CallbackReply;
}

/** The link answering at one path, with its body cap (its upstream.maxCallbackBytes). */
export interface CallbackTarget {
  endpoint: CallbackEndpoint;
  maxBytes: number;
}

/**
 * The link answering at a request path, or null: then the request is the Hono app's (one path
 * per location; parts/upstream-webhooks.ts routes the same way through Hono).
 */
export type CallbackRoute = (path: string) => CallbackTarget | null;

/** The same answer through Hono (app.request() tests, the Hono face of a link): capped body, the link's reply. */
export async function answerThroughHono(c: Context, target: CallbackTarget): Promise<Response> {
  const body = await readCapped(c.req.raw, target.maxBytes);
  const reply = body === null ? target.endpoint.refuseTooLarge() : await target.endpoint.answerCallback((name) => c.req.header(name), body);
  return new Response(reply.body, { status: reply.status, headers: reply.headers });
}

export interface WebhookFastPathOptions {
  route: CallbackRoute;
  allowedHosts: readonly string[];
  logger: Logger;
}

/** Returns a handler that answers the request and says true, or says false and leaves it alone. */
export function webhookFastPath(opts: WebhookFastPathOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = hostAllowed(opts.allowedHosts);
  const send = (res: ServerResponse, reply: CallbackReply, close = false) => {
    if (res.headersSent) return;
    res.writeHead(reply.status, close ? { ...reply.headers, connection: 'close' } : reply.headers);
    res.end(reply.body);
  };
  return (req, res) => {
    const target = req.method === 'POST' && req.url !== undefined ? opts.route(req.url) : null;
    if (target === null) return false;
    const { endpoint, maxBytes } = target;
    if (!allowed(req.headers.host ?? '')) {
      send(res, { status: 421, headers: { 'content-type': 'application/json' }, body: '{"error":"unknown host"}' });
      req.resume();
      return true;
    }
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      // Refused before a byte is read; the connection closes so the rest is never read either.
      send(res, endpoint.refuseTooLarge(), true);
      req.destroy();
      return true;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      total += chunk.length;
      if (total > maxBytes) {
        over = true;
        send(res, endpoint.refuseTooLarge(), true);
        req.destroy(); // hung up on at the first byte past the cap
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined); // a peer that hangs up mid-body: nothing to answer
    req.on('end', () => {
      if (over) return;
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      };
      endpoint.answerCallback(header, Buffer.concat(chunks, total)).then(
        (reply) => send(res, reply),
        (err: unknown) => {
          opts.logger.error({ err: errorMessage(err) }, 'callback forwarding failed');
          send(res, { status: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"internal error"}' });
        },
      );
    });
    return true;
  };
}
