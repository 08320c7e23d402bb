import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { BlankEnv } from 'hono/types';
import type { IssuedToken } from '../../qr/issuer.js';
import type { Store } from '../../store/store.js';
import type { BookingConfig } from '../../upstream/booking-apply.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { v1ErrorHandler } from './error-handler.js';
import { ApiError } from './errors.js';
import { mountBookingRoutes } from './booking-routes.js';
import type { LocationsOf } from './location-gate.js';
import { mountBulkRoute, type BulkApply } from './bulk-routes.js';
import type { Writes } from './write-ops.js';
import { mountCompanyRoutes } from './company-routes.js';
import { mountPeopleRoutes } from './people-routes.js';
import { mountSubscriptionRoutes } from './subscription-routes.js';
import { renderReference } from './reference-page.js';

/*
 * The provisioning API, /api/v1: an OpenAPIHono app whose routes are declared with the zod
 * schemas they validate with (schemas.ts), so /api/v1/openapi.json is generated, not written.
 * The document and its reference page are public (they hold no data); every other route needs
 * an API token (token-auth.ts) and checks its own scope.
 */

export interface V1Deps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Token middleware (token-auth.ts); injected so tests can use the real one on a test store. */
  auth: MiddlewareHandler;
  knownGroups: () => ReadonlySet<string>;
  /** Where every write goes (write-ops.ts): the API thread's batcher in the gateway (thread-app.ts), direct calls in tests. */
  writes: Writes;
  /** Issues member QR tokens; without it POST …/qr-tokens is not mounted. */
  issueQr?: (email: string) => IssuedToken;
  /** Doors, grace and known resources for pushed bookings, from the config of the moment (booking-apply.ts policyOfConfig). */
  /** The resources and grace of the running configuration (a reload applies to the next PUT). */
  bookingConfig: () => BookingConfig;
  /** Runs a bulk off the main thread (bulk-runner.ts); without it the bulk route is not mounted. */
  bulk?: BulkApply;
  /** The running configuration's locations (config/locations.ts): a disconnected one is granted nothing new (location-gate.ts). */
  locations?: LocationsOf;
}

/** A failed validation: 400 with the first problem's field, as `target.path` (body.validTo, path.email). */
const refuseInvalid: Hook<unknown, BlankEnv, string, unknown> = (result, c) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const where = result.target === 'json' ? 'body' : result.target === 'param' ? 'path' : result.target;
  const field = [where, ...(issue?.path ?? []).map(String)].join('.');
  return c.json(new ApiError(400, 'invalid_request', issue?.message ?? 'invalid request', field).body(), 400);
};

export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: { title: 'lintel provisioning API', version: '1.0.0', description: 'People, cards and access of one lintel gateway, by natural key.' },
  servers: [{ url: '/api/v1' }],
};

export function createV1App(deps: V1Deps): OpenAPIHono<BlankEnv> {
  const app = new OpenAPIHono<BlankEnv>({ defaultHook: refuseInvalid });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API token from `lintel token create`' });
  // Public, and before the token middleware: a handler that answers ends the chain there.
  app.doc31('/openapi.json', OPENAPI_INFO);
  app.get('/reference', (c) => c.html(renderReference(app.getOpenAPI31Document(OPENAPI_INFO))));
  app.use('*', deps.auth);
  mountPeopleRoutes(app, deps);
  mountCompanyRoutes(app, deps);
  mountSubscriptionRoutes(app, deps);
  mountBookingRoutes(app, deps);
  if (deps.bulk) mountBulkRoute(app, deps.bulk);
  app.all('*', (c) => c.json(new ApiError(404, 'unknown_route', `no ${c.req.method} ${c.req.path} in /api/v1`).body(), 404));
  app.onError(v1ErrorHandler(deps.logger));
  return app;
}
