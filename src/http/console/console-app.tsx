import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import { ACTION_NAMES, parseAction, REQUIRED_ROLE, type ActionName, type OperatorActions } from '../../console/actions.js';
import { roleAtLeast, type ConsoleEnv, type Operator } from '../../console/operator.js';
import type { AlarmSource } from '../../doors/alarm-types.js';
import type { Metrics } from '../../metrics.js';
import type { DecisionListener } from '../../pipeline/decision-recorder.js';
import type { RecentDecisions } from '../../pipeline/recent-decisions.js';
import { peopleByIds } from '../../store/audit-search.js';
import type { DbHolder } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { GatewayStatus } from '../status.js';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.js';
import { auditRoutes } from './audit-routes.js';
import { ConsoleEventHub, DEFAULT_HUB_LIMITS, type HubLimits } from './event-hub.js';
import { FlashBox } from './flash-box.js';
import { buildConsoleView, renderLiveSections } from './console-view.js';
import type { LatencyBucket } from './view-model.js';
import { DecisionRow } from './views/status-sections.js';
import { renderDocument, StatusPage } from './views/status-view.js';

/*
 * The operator console: the live status page at /, its event stream at /events, one POST
 * route per operator action at /actions/<action>, and the audit view. Sessions and CSRF are
 * injected (the login helper owns them): `session` sets `operator` (null when anonymous) and
 * `csrf` on every route here, `csrf` refuses a POST whose `_csrf` field is not the session's.
 * Every middleware is attached per route, never with use('*'): this app is mounted at the
 * gateway's root, where a '*' middleware would also run in front of /health and /api.
 */

export interface ConsoleLive {
  /** The ring the status page shows, with the local person ids beside the events (kept in-process). */
  recent: Pick<RecentDecisions, 'listWithPeople'>;
  /** DecisionRecorder.onDecision. */
  onDecision(listener: DecisionListener): void;
  /** RelayPart's relay.onState (door state changes); returns an unsubscribe. */
  onDoorState?: ((listener: () => void) => () => void) | undefined;
  /** The door alarms (AlarmsPart): only their changes are listened to, the list is in the status. */
  alarms?: Pick<AlarmSource, 'onChange'> | null | undefined;
}

export interface ConsoleDeps {
  session: MiddlewareHandler<ConsoleEnv>;
  csrf: MiddlewareHandler<ConsoleEnv>;
  actions: OperatorActions;
  status: () => GatewayStatus;
  live: ConsoleLive;
  /** Read-only here: the audit search, people pending a card, names for the signed-in. */
  store: DbHolder;
  /** config.site.timeZone, read when needed (a reload may change it). */
  timeZone: () => string;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** The decision latency histogram, when the metrics have one (latencyFromRegistry). */
  latency?: () => Promise<LatencyBucket[] | null>;
  limits?: Partial<HubLimits>;
}

export interface Console {
  app: Hono<ConsoleEnv>;
  hub: ConsoleEventHub;
  /** Ends every live stream and the timers (the gateway's stop). */
  stop(): void;
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it Chromium sends `Origin: null` on form posts, which the gateway's browser check refuses as foreign.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const secured: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  await next();
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
  if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
};

export function createConsole(deps: ConsoleDeps): Console {
  const app = new Hono<ConsoleEnv>();
  const { session, csrf } = deps;
  const flashes = new FlashBox();
  const viewOf = (viewer: Operator | null) => buildConsoleView(deps, viewer);
  const hub = new ConsoleEventHub({
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics,
    limits: { ...DEFAULT_HUB_LIMITS, ...deps.limits },
    renderStatus: async (viewer) => renderLiveSections(await viewOf(viewer)),
  });

  deps.live.onDecision((event, personId) => {
    if (hub.size === 0) return;
    let person: { email: string; name: string | null } | null | undefined;
    // Looked up once per decision and only for a signed-in page; the id itself is never sent.
    const personFor = () => (person ??= personId === null ? null : peopleByIds(deps.store, [personId]).get(personId) ?? null);
    hub.broadcast('decision', (viewer) => String(<DecisionRow event={event} person={viewer ? personFor() : null} signedIn={viewer !== null} timeZone={deps.timeZone()} />));
  });
  const unsubscribe = [deps.live.onDoorState?.(() => hub.changed()), deps.live.alarms?.onChange(() => hub.changed())];

  app.get('/console.js', secured, (c) => c.body(CONSOLE_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }));
  app.get('/console.css', secured, (c) => c.body(CONSOLE_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }));

  // Browsers ask for it on every page; a 404 there is noise in an operator's console.
  app.get('/favicon.ico', secured, (c) => c.body(null, 204));
  app.get('/', session, secured, async (c) => {
    const token = c.get('csrf');
    const flash = token ? flashes.take(token) : null;
    const view = await viewOf(c.get('operator'));
    return c.html(renderDocument(<StatusPage view={view} csrf={token} flash={flash} />));
  });

  app.get('/events', session, secured, (c) => {
    const viewer = c.get('operator');
    const client = hub.join(viewer);
    if (!client) return c.text('too many live pages open; this one refreshes by itself instead', 503, { 'retry-after': '30' });
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => client.close());
      // Never throws: streamSSE leaves a rejected callback unhandled, which would end the process.
      try {
        await stream.writeSSE({ event: 'status', data: await hub.renderFor(viewer) });
        for (let m = await client.next(); m; m = await client.next()) await stream.writeSSE(m);
      } catch (err) {
        deps.logger.debug({ err: errorMessage(err) }, 'console live stream ended');
      } finally {
        client.close();
      }
    });
  });

  app.post('/actions/:action', session, csrf, secured, async (c) => {
    const operator = c.get('operator');
    const name = c.req.param('action') as ActionName;
    if (!ACTION_NAMES.includes(name)) return refusal(c, 404, `no action ${name}`);
    if (!operator) return refusal(c, 401, 'sign in to act');
    // The buttons are drawn by role; this is the check that counts.
    if (!roleAtLeast(operator.role, REQUIRED_ROLE[name])) return refusal(c, 403, `${name} needs the ${REQUIRED_ROLE[name]} role`);
    const fields = formFields(await c.req.parseBody());
    if (!fields) return refusal(c, 400, 'a form of text fields only');
    const parsed = parseAction(name, fields, 'form');
    if (!parsed.ok) return refusal(c, 400, parsed.message);
    const result = await deps.actions.run({ ...operator, via: 'console' }, parsed.action);
    const token = c.get('csrf');
    if (token) flashes.put(token, result.ok ? { ok: true, message: result.message, detail: name === 'reader.learn' || name === 'learned.assign' ? result.detail : undefined } : { ok: false, message: result.message });
    return c.redirect(name === 'reader.learn' || name === 'learned.assign' ? '/#learn' : '/', 303);
  });

  app.route('/', auditRoutes({ session, secured, store: deps.store, timeZone: deps.timeZone, status: deps.status }));

  return {
    app,
    hub,
    stop() {
      hub.stop();
      for (const u of unsubscribe) u?.();
    },
  };
}

/** The console's routes alone (the gateway mounts them with createConsole to be able to stop the live streams). */
export function createConsoleApp(deps: ConsoleDeps): Hono<ConsoleEnv> {
  return createConsole(deps).app;
}

/** The form's fields without `_csrf`; null when a field is a file or repeated (no action has either). */
function formFields(body: Record<string, unknown>): Record<string, string | boolean> | null {
  const out: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === '_csrf') continue;
    if (typeof v !== 'string') return null;
    // HTML forms have no booleans: lockdown's `on` is sent as "true" / "false".
    out[k] = k === 'on' && (v === 'true' || v === 'false') ? v === 'true' : v;
  }
  return out;
}

function refusal(c: Context<ConsoleEnv>, status: 400 | 401 | 403 | 404, message: string): Response {
  const page = (
    <html lang="en">
      <head><meta charset="utf-8" /><meta name="viewport" content="width=device-width, initial-scale=1" /><title>refused</title><link rel="stylesheet" href="/console.css" /></head>
      <body><main><p class="flash bad" id="flash">{message}</p><p><a href="/">back to the status page</a></p></main></body>
    </html>
  );
  return c.html(renderDocument(page), status);
}
