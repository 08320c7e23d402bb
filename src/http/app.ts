import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../util/log.js';
import type { Metrics } from '../metrics.js';
import { operatorAuth } from './auth.js';
import { renderStatusPage } from './status-page.js';
import type { GatewayStatus } from './status.js';

export interface HttpDeps {
  status: () => GatewayStatus;
  metrics: Metrics;
  logger: Logger;
  authToken: string | undefined;
  /** Signed callbacks from the booking platform; authenticated by their own signature. */
  webhook: Hono | null;
  /** Operator API routes mounted under /api (behind operator auth). */
  api: Hono[];
}

/**
 * The gateway's one HTTP app. Routes are tested with `app.request()` and no socket.
 * One error handler: an unexpected error is logged and answered 500 without details.
 */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();
  const auth = operatorAuth(deps.authToken);

  app.get('/health', (c) => {
    const s = deps.status();
    // Liveness: the process can decide locally. Degraded dependencies are reported, not fatal.
    return c.json({ status: s.health, site: s.site, checks: s.checks }, s.health === 'failing' ? 503 : 200);
  });
  app.get('/metrics', auth, async (c) => c.text(await deps.metrics.text(), 200, { 'content-type': deps.metrics.registry.contentType }));
  app.get('/', auth, (c) => c.html(renderStatusPage(deps.status())));
  // Everything under /api is the operator's: one middleware, registered before any /api route.
  app.use('/api/*', auth);
  app.get('/api/status', (c) => c.json(deps.status()));
  for (const routes of deps.api) app.route('/api', routes);
  if (deps.webhook) app.route('/webhooks/offision', deps.webhook);

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    deps.logger.error({ err: err.message, path: c.req.path }, 'http handler failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
