import type { Server } from 'node:http';
import { BULK_PATH, MAX_BULK_BYTES } from '../api/v1/bulk-routes.js';
import { siteLocations } from '../config/locations.js';
import { isLoopback } from '../config/loopback.js';
import { createHttpApp } from '../http/app.js';
import { LoginLimiter } from '../http/console-auth/rate-limit.js';
import { SessionStore } from '../http/console-auth/sessions.js';
import { countOperators, findOperator } from '../store/operators.js';
import { allowedHostNames } from '../http/request-guards.js';
import { serveGateway } from '../http/serve.js';
import type { GatewayStatus } from '../http/status.js';
import type { FilesPart } from './files-part.js';
import type { Part, PartContext } from './part.js';
import type { StorePart } from './store-part.js';
import type { UpstreamPart } from './upstream-part.js';

/**
 * HTTP: health, metrics, status page, the operator API and the platform's callbacks. It mounts
 * the routes of every part started before it (parts/part.ts), so a part with routes is listed
 * before this one; the platform's callbacks also get the fast path in front of Hono, and the
 * provisioning API is forwarded to its thread (http/v1-forward.ts) without reaching Hono.
 */
export class HttpPart implements Part {
  readonly name = 'http';
  /**
   * Requests in flight get a second to finish, then every connection is cut (the console's live
   * event streams never finish on their own). Part of the sum under run-gateway's hard stop.
   */
  readonly stopBoundMs = 1200;
  private server: Server | null = null;
  private bound: { host: string; port: number } | null = null;

  constructor(
    private readonly files: FilesPart,
    private readonly upstream: UpstreamPart,
    private readonly gatewayStatus: () => GatewayStatus,
    /** The console's operator accounts (store/operators.ts) are read from it at each sign-in and request. */
    private readonly store: StorePart,
  ) {}

  async start(ctx: PartContext): Promise<void> {
    const cfg = ctx.config();
    const logger = ctx.logger.child({ part: 'http' });
    // Every location's callback host is one this gateway answers to.
    const callbackHosts = siteLocations(cfg).flatMap((l) => (l.upstream ? [new URL(l.upstream.callbackUrl).hostname] : []));
    const allowedHosts = allowedHostNames({ bindHost: cfg.http.host, allowedHosts: [...cfg.http.allowedHosts, ...callbackHosts] });
    const routes = ctx.routes();
    const app = createHttpApp({
      status: this.gatewayStatus,
      metrics: ctx.metrics,
      logger,
      authToken: this.files.authToken,
      parts: routes,
      allowedHosts,
      maxBodyBytes: cfg.http.maxBodyBytes,
      timeZone: cfg.site.timeZone,
      console: {
        // In memory: a restart signs everyone out (README "Security").
        sessions: new SessionStore(ctx.clock),
        limiter: new LoginLimiter(ctx.clock),
        accounts: { find: (name) => findOperator(this.store.store, name), count: () => countOperators(this.store.store) },
        loopback: isLoopback(cfg.http.host),
        behindTlsProxy: cfg.http.behindTlsProxy,
      },
    });
    const upstream = this.upstream;
    const webhook = upstream.hasPlatform() ? { route: (path: string) => upstream.callbackTarget(path), allowedHosts } : null;
    const endpoints = routes.flatMap((r) => (r.v1Thread ? [r.v1Thread] : []));
    if (endpoints.length > 1) throw new Error(`${endpoints.length} parts serve /api/v1; one may`);
    const v1 = endpoints[0] ? { endpoint: endpoints[0], allowedHosts, maxBodyBytes: cfg.http.maxBodyBytes, bulk: { path: BULK_PATH, maxBytes: MAX_BULK_BYTES } } : null;
    const served = await serveGateway({ app, host: cfg.http.host, port: cfg.http.port, logger, webhook, v1, tls: this.files.tls });
    this.server = served.server;
    this.bound = served.address;
  }

  /** Where it listens (port 0 in the config: the port the system chose); null before start. */
  address(): { host: string; port: number } | null {
    return this.bound;
  }

  /** The listening server, null before start and after stop (tests watch its sockets). */
  listening(): Server | null {
    return this.server;
  }

  /** Waits for requests in flight; past the bound, open connections are cut (a slow client must not hold the stop). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closing = new Promise<void>((resolve) => server.close(() => resolve()));
    const cut = setTimeout(() => server.closeAllConnections(), this.stopBoundMs - 100);
    await closing;
    clearTimeout(cut);
  }
}
