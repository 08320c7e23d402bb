import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ConsoleEnv } from '../console/operator.js';
import type { Logger } from '../util/log.js';
import type { Metrics } from '../metrics.js';
import type { PartRoutes } from '../parts/part.js';
import { BULK_PATH, MAX_BULK_BYTES } from '../api/v1/bulk-routes.js';
import { every } from 'hono/combine';
import type { OperatorAccount } from '../store/operators.js';
import { systemClock } from '../util/clock.js';
import { createLoginRoutes } from './console-auth/login-routes.js';
import { consoleSession, requireCsrf, requireRole } from './console-auth/middleware.js';
import { LoginLimiter } from './console-auth/rate-limit.js';
import { SessionStore } from './console-auth/sessions.js';
import { mountHealthRoutes } from './health-routes.js';
import { bodyCap, browserWriteCheck, hostCheck } from './request-guards.js';
import { renderStatusPage } from './status-page.js';
import { isV1 } from './v1-forward.js';
import type { GatewayStatus } from './status.js';

export interface HttpDeps {
  status: () => GatewayStatus;
  metrics: Metrics;
  logger: Logger;
  authToken: string | undefined;
  /** Signed callbacks from the booking platform; authenticated by their own signature. */
  webhook?: Hono | null;
  /** Operator API routes mounted under /api (behind operator auth). */
  api?: Hono[];
  /** The gateway's parts' routes (parts/part.ts): each part's `api` under /api, the one `webhook` at WEBHOOK_PATH. */
  parts?: readonly PartRoutes[];
  /** Host names besides loopback this gateway answers to (see allowedHostNames). */
  allowedHosts: readonly string[];
  /** Cap on every request body except the webhook's, which has its own (upstream.maxCallbackBytes). */
  maxBodyBytes: number;
  /** Console sign-in (http/console-auth); without it: no accounts, on loopback, sessions on the system clock. */
  console?: ConsoleAuthOptions;
  /** config.site.timeZone: the one zone the pages show times in. */
  timeZone?: string;
}

/** What the console's sign-in needs from the gateway: the accounts (store/operators.ts) and where it is bound. */
export interface ConsoleAuthOptions {
  sessions: SessionStore;
  limiter: LoginLimiter;
  accounts: { find(name: string): OperatorAccount | undefined; count(): number };
  /** http.host is loopback: only there may an anonymous visitor see the page (no token, no accounts). */
  loopback: boolean;
  /** http.behindTlsProxy: the client address is the proxy's X-Forwarded-For hop. */
  behindTlsProxy: boolean;
}

/** Browser form posts (urlencoded, not JSON): the sign-in form, and the console page's action forms (CSRF-tokened). */
export const isConsoleForm = (path: string): boolean => path === '/login' || path === '/logout' || path.startsWith('/console/') || path.startsWith('/actions/');

export const WEBHOOK_PATH = '/webhooks/offision';

/**
 * The gateway's one HTTP app. Routes are tested with `app.request()` and no socket.
 * One error handler: an unexpected error is logged and answered 500 without details; every
 * refusal is JSON `{ error }` with its status.
 *
 * Order matters: the Host check comes first on every route (a rebound name gets nothing, not
 * even /health), then one body cap per route, then the browser checks on state-changing
 * routes, then who is at the console (http/console-auth: a session, the admin token, or the
 * anonymous loopback viewer), at least a viewer, and the CSRF token of a cookie-signed write.
 * The webhook is server-to-server and signed: it keeps its own cap (checked while reading,
 * before the signature) and skips the browser checks.
 */
export function createHttpApp(deps: HttpDeps): Hono {
  const { api, webhook, console: consolePage } = mountedRoutes(deps);
  const app = new Hono();
  const consoleAuth = consoleAuthOf(deps);
  // Who is at the console (a session, the admin token, or nobody), then at least a viewer, then
  // the session's CSRF token on every state-changing request signed in by cookie.
  const session = consoleSession(consoleAuth);
  const auth = every(session, requireRole('viewer'), requireCsrf());
  const refuse = (c: Context, status: 403 | 413 | 415 | 421, error: string) => c.json({ error }, status);
  const exceptWebhook = (mw: MiddlewareHandler): MiddlewareHandler => async (c, next) =>
    c.req.path === WEBHOOK_PATH || c.req.path.startsWith(`${WEBHOOK_PATH}/`) ? next() : mw(c, next);

  app.use('*', hostCheck(deps.allowedHosts, refuse));
  const cap = bodyCap(deps.maxBodyBytes, refuse);
  const bulkCap = bodyCap(MAX_BULK_BYTES, refuse);
  // One cap a route: the provisioning bulk has its own, far larger one (it runs off the main thread).
  app.use('*', exceptWebhook(async (c, next) => (c.req.path === BULK_PATH ? bulkCap(c, next) : cap(c, next))));
  const browserChecks = browserWriteCheck(deps.allowedHosts, refuse);
  const v1BrowserChecks = browserWriteCheck(deps.allowedHosts, refuse, false);
  // The v1 API and the console's forms are not JSON-only: the v1 API's credential is a header a
  // browser cannot add cross-site, and a form's is its CSRF token (requireCsrf).
  app.use('*', exceptWebhook(async (c, next) => (isV1(c.req.path) || isConsoleForm(c.req.path) ? v1BrowserChecks(c, next) : browserChecks(c, next))));

  app.get('/health', (c) => {
    const s = deps.status();
    // Liveness: the process can decide locally. Degraded dependencies are reported, not fatal.
    return c.json({ status: s.health, site: s.site, checks: s.checks }, s.health === 'failing' ? 503 : 200);
  });
  mountHealthRoutes(app, deps.status);
  app.route('/', createLoginRoutes({ ...consoleAuth, findAccount: (name) => consoleAuth.accounts.find(name), logger: deps.logger }));
  // The console's own routes (forms, live updates) under /console: who is there and the CSRF
  // check are set here once; each route asks for its role with requireRole.
  app.use('/console/*', every(session, requireCsrf()));
  app.get('/metrics', auth, async (c) => c.text(await deps.metrics.text(), 200, { 'content-type': deps.metrics.registry.contentType }));
  if (consolePage) {
    // The operator console (http/console): at least a viewer to look (the open loopback mode
    // included), the CSRF token on every form; each action's role is checked by the use case.
    // The session middleware sets ConsoleEnv's variables, which the console's routes read.
    const viewer = every(session, requireRole('viewer')) as unknown as MiddlewareHandler<ConsoleEnv>;
    app.route('/', consolePage({ session: viewer, csrf: requireCsrf() as unknown as MiddlewareHandler<ConsoleEnv> }));
  } else app.get('/', auth, (c) => c.html(renderStatusPage(deps.status(), deps.timeZone)));
  // Everything under /api is the operator's: one middleware, registered before any /api route.
  // /api/v1 is the provisioning API's, with scoped API tokens of its own (api/v1/token-auth.ts),
  // served on its thread (http/v1-forward.ts): a request for it that reaches this app finds no route.
  app.use('/api/*', async (c, next) => (isV1(c.req.path) ? next() : auth(c, next)));
  app.get('/api/status', (c) => c.json(deps.status()));
  for (const routes of api) app.route('/api', routes);
  if (webhook) app.route(WEBHOOK_PATH, webhook);

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return c.json({ error: err.message || 'bad request' }, err.status);
    deps.logger.error({ err: err.message, path: c.req.path }, 'http handler failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

function consoleAuthOf(deps: HttpDeps) {
  const o = deps.console ?? { sessions: new SessionStore(systemClock), limiter: new LoginLimiter(systemClock), accounts: { find: () => undefined, count: () => 0 }, loopback: true, behindTlsProxy: false };
  return {
    ...o,
    authToken: deps.authToken,
    findOperator: (name: string) => o.accounts.find(name),
    operatorCount: () => o.accounts.count(),
  };
}

/** One list of /api routes and at most one webhook: two platform links would answer each other's callbacks. */
function mountedRoutes(deps: HttpDeps): { api: Hono[]; webhook: Hono | null; console: PartRoutes['console'] | null } {
  const api = [...(deps.api ?? [])];
  const webhooks = deps.webhook ? [deps.webhook] : [];
  const consoles: NonNullable<PartRoutes['console']>[] = [];
  for (const part of deps.parts ?? []) {
    if (part.api) api.push(part.api);
    if (part.webhook) webhooks.push(part.webhook);
    if (part.console) consoles.push(part.console);
  }
  if (webhooks.length > 1) throw new Error(`${webhooks.length} parts mount the platform webhook at ${WEBHOOK_PATH}; one may`);
  if (consoles.length > 1) throw new Error(`${consoles.length} parts mount the console; one may`);
  return { api, webhook: webhooks[0] ?? null, console: consoles[0] ?? null };
}
