import type { Hono, MiddlewareHandler } from 'hono';
import type { Config } from '../config/schema.js';
import type { ConsoleEnv } from '../console/operator.js';
import type { V1Endpoint } from '../http/v1-forward.js';
import type { Metrics } from '../metrics.js';
import type { StatusPart } from '../status-builder.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/*
 * What the composition root (gateway.ts) knows of the things it runs: zigbee2mqtt's controller
 * and its extensions. The gateway starts the parts of one list in order and stops them in
 * reverse, each stop bounded in time; a part is added by adding one entry to that list
 * (parts/gateway-parts.ts), never by editing the gateway's start(). What a part needs from an
 * earlier one it gets in its constructor, typed, so the list's order is checked by reading it.
 */

/** The bound of a part whose stop is synchronous (nothing to wait for): it counts in the sum, and nothing more. */
export const SYNC_STOP_BOUND_MS = 50;

/** What every part is given at start: the gateway's own, shared by all of them. */
export interface PartContext {
  /** The running config: reload() replaces it, so a part reads it when it needs it and keeps none. */
  config(): Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  /** True once the gateway began to stop: a timer's late run must not start a link any more. */
  stopping(): boolean;
  /** The routes of the parts started before this one (the HTTP part mounts them). */
  routes(): readonly PartRoutes[];
}

/** Hono routes a part mounts on the gateway's one app (http/app.ts). */
export interface PartRoutes {
  /** Mounted under /api: behind operator auth, the Host check, the body cap and the browser checks. */
  api?: Hono;
  /**
   * The provisioning API served off the main thread (parts/api-part.ts): the server hands it
   * every /api/v1 request after the Host check, the body cap and the browser checks
   * (http/v1-forward.ts), before the Hono app sees it. One per gateway. Its own token auth
   * (scoped API tokens), not the operator's.
   */
  v1Thread?: V1Endpoint;
  /**
   * The booking platform's signed callbacks at WEBHOOK_PATH: authenticated by their own
   * signature, capped by their own limit. One per gateway; a second is refused at start.
   */
  webhook?: Hono;
  /**
   * The operator console (http/console/console-app.tsx): the status page at /, /events,
   * /actions/*, /audit. Built by the HTTP app, which hands it the sign-in's session and CSRF
   * middleware (http/console-auth); one per gateway. Without it, / is the plain status page.
   */
  console?: (auth: ConsoleMiddleware) => Hono<ConsoleEnv>;
}

/** The sign-in's checks the console's routes run: who is there (at least a viewer), and the CSRF token of a form. */
export interface ConsoleMiddleware {
  session: MiddlewareHandler<ConsoleEnv>;
  csrf: MiddlewareHandler<ConsoleEnv>;
}

/** A reload the gateway committed (gateway-reload.ts): only live fields differ (config/reload-plan.ts). */
export interface ConfigChange {
  readonly config: Config;
  readonly previous: Config;
  /** The platform tokens as re-read by the reload (a rotated token file), by location id (config/locations.ts); none read: absent. */
  readonly upstreamTokens: ReadonlyMap<string, string>;
}

export interface Part {
  /** Names the part in logs: a start that failed, a stop that timed out. */
  readonly name: string;
  /**
   * How long the gateway waits for stop() before it goes on without it (util/bounded.ts). The
   * bounds of all parts together stay under run-gateway's hard stop, itself under systemd's
   * TimeoutStopSec: a hung broker must not keep SQLite open until the process is killed.
   * A synchronous stop cannot be cut short by a timer: it takes SYNC_STOP_BOUND_MS, for the sum.
   */
  readonly stopBoundMs: number;
  /**
   * Throwing fails the gateway's start: the parts started before are stopped in reverse, and
   * this one too (stop() must cope with a start that ended half-way).
   */
  start(ctx: PartContext): Promise<void> | void;
  /** Called once, and also after a start that threw; never before start. */
  stop(): Promise<void> | void;
  /** Its share of /health, /api/status and the status page, while it runs. */
  status?(): StatusPart;
  /** Asked once, when the HTTP part starts: so a part with routes is listed before it. */
  routes?(): PartRoutes;
  /** The new running config, after a reload committed it; synchronous, never throws. */
  reloaded?(change: ConfigChange): void;
}
