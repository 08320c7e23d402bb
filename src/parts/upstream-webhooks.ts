import { Hono, type Context } from 'hono';
import { BASE_WEBHOOK_PATH } from '../config/locations.js';
import type { CallbackReply } from '../upstream/upstream-link.js';
import { readCapped } from '../util/read-capped.js';

/*
 * The platforms' callbacks through Hono (app.request() tests; the gateway's own server answers
 * them on its fast path, http/webhook-fast-path.ts, with the same routing): mounted at
 * /webhooks/offision, each path is looked up at request time, so `/<locationId>` reaches that
 * location's link and the bare path the implicit (or only) one. A path no running link answers
 * at (an unknown location, a disconnected one) is a 404 and nothing is read or stored.
 */

/** The link answering at one path, with its body cap (its upstream.maxCallbackBytes). */
export interface CallbackTarget {
  endpoint: {
    answerCallback(header: (name: string) => string | undefined, body: Buffer): Promise<CallbackReply>;
    refuseTooLarge(): CallbackReply;
  };
  maxBytes: number;
}

export type CallbackRouter = (path: string) => CallbackTarget | null;

const NOT_FOUND = { error: 'no platform link at this path (unknown or disconnected location)' };

export function locationWebhookApp(route: CallbackRouter): Hono {
  const app = new Hono();
  const answer = (suffix: string) => async (c: Context) => {
    const target = route(BASE_WEBHOOK_PATH + suffix);
    if (!target) return c.json(NOT_FOUND, 404);
    const body = await readCapped(c.req.raw, target.maxBytes);
    const reply = body === null ? target.endpoint.refuseTooLarge() : await target.endpoint.answerCallback((name) => c.req.header(name), body);
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  };
  app.post('/', answer(''));
  app.post('/:location', (c) => answer(`/${c.req.param('location')}`)(c));
  return app;
}
