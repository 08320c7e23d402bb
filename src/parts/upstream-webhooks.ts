import { Hono, type Context } from 'hono';
import { BASE_WEBHOOK_PATH } from '../config/locations.js';
import { answerThroughHono, type CallbackRoute } from '../http/webhook-fast-path.js';

/*
 * The platforms' callbacks through Hono (app.request() tests; the gateway's own server answers
 * them on its fast path, http/webhook-fast-path.ts, with the same routing): mounted at
 * /webhooks/offision, each path is looked up at request time, so `/<locationId>` reaches that
 * location's link and the bare path the implicit (or only) one. A path no running link answers
 * at (an unknown location, a disconnected one) is a 404 and nothing is read or stored.
 */


const NOT_FOUND = { error: 'no platform link at this path (unknown or disconnected location)' };

export function locationWebhookApp(route: CallbackRoute): Hono {
  const app = new Hono();
  const answer = (suffix: string) => (c: Context) => {
    const target = route(BASE_WEBHOOK_PATH + suffix);
    return target ? answerThroughHono(c, target) : c.json(NOT_FOUND, 404);
  };
  app.post('/', answer(''));
  app.post('/:location', (c) => answer(`/${c.req.param('location')}`)(c));
  return app;
}
