import { Hono } from 'hono';
import { parseAction, type OperatorActions } from '../console/actions.js';
import { ConsoleActions } from '../console/operator-actions.js';
import { operatorOf } from '../console/operator.js';
import type { AlarmSource } from '../doors/alarm-types.js';
import type { AccessPart } from './access-part.js';
import type { ApiPart } from './api-part.js';
import type { DecisionsPart } from './decisions-part.js';
import type { DoorHoldPart } from './door-hold-part.js';
import type { GatewayStatus } from '../http/status.js';
import { createConsole, type Console, type ConsoleDeps } from '../http/console/console-app.js';
import { latencyFromRegistry } from '../http/console/latency-histogram.js';
import { SYNC_STOP_BOUND_MS, type ConsoleMiddleware, type Part, type PartContext, type PartRoutes } from './part.js';
import type { RelayPart } from './relay-part.js';
import type { StorePart } from './store-part.js';
import type { UpstreamPart } from './upstream-part.js';

/** The parts an operator action reaches: each is started before this one in gateway-parts.ts. */
export interface ConsoleInputs {
  store: StorePart;
  access: AccessPart;
  relay: RelayPart;
  doorHold: DoorHoldPart;
  upstream: UpstreamPart;
  decisions: DecisionsPart;
  api: ApiPart;
  /** The gateway's status (the composition root builds it from every part's share). */
  status: () => GatewayStatus;
}

/**
 * The operator's console: the one OperatorActions every channel runs (the page, the operator
 * API below, MQTT commands), and the operator API's route. Listed after the parts it acts
 * through and before `http`, which mounts its routes.
 */
export class ConsolePart implements Part {
  readonly name = 'console';
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  private running: ConsoleActions | null = null;
  private page: Console | null = null;
  private pageDeps: Omit<ConsoleDeps, 'session' | 'csrf'> | null = null;
  private alarmSource: (() => AlarmSource | null) = () => null;

  constructor(private readonly inputs: ConsoleInputs) {}

  /** The door alarms, once their part exists (it is listed after the door hold). */
  useAlarms(source: () => AlarmSource | null): void {
    this.alarmSource = source;
  }

  start(ctx: PartContext): void {
    const { store, access, relay, doorHold, upstream, decisions, api } = this.inputs;
    this.running = new ConsoleActions({
      clock: ctx.clock,
      logger: ctx.logger.child({ part: 'console' }),
      writes: api.writes,
      doors: {
        pulse: (door) => (ctx.config().doors.some((d) => d.id === door) ? relay.relay.pulse(door) : 'unknown_door'),
        hold: (door, until, by) => doorHold.doorHold.hold(door, until, by),
        release: (door, by) => doorHold.doorHold.release(door, by),
      },
      lockedDown: () => access.site.lockdown,
      forgive: (email) => {
        if (!access.policy.antiPassback) return 'off';
        // A read on this thread's connection: WAL readers never wait for the write lock.
        const row = store.store.read((tx) => tx.people.byEmail(email));
        if (row === undefined) return 'unknown_person';
        access.antiPassback.forgive(row.id);
        return 'forgiven';
      },
      // Every connected location's link (parts/upstream-part.ts), one report.
      reconcile: upstream.hasPlatform() ? () => upstream.reconcileAll() : null,
      alarms: () => this.alarmSource(),
      learn: decisions.learn,
      readerKnown: (reader) => ctx.config().readers.some((r) => r.id === reader),
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
    });
    const alarms = this.alarmSource();
    this.pageDeps = {
      actions: this.running,
      status: this.inputs.status,
      live: {
        recent: decisions.recent,
        onDecision: (l) => decisions.pipeline.onDecision(l),
        onDoorState: (l) => relay.relay.onState(() => l()),
        alarms,
      },
      store: store.store,
      timeZone: () => ctx.config().site.timeZone,
      clock: ctx.clock,
      logger: ctx.logger.child({ part: 'console' }),
      metrics: ctx.metrics,
      latency: latencyFromRegistry(ctx.metrics.registry),
    };
  }

  get actions(): OperatorActions {
    if (!this.running) throw new Error('the console part has not started');
    return this.running;
  }

  /**
   * POST /api/actions/<action> with the action's fields as JSON: the operator API. Under /api,
   * behind operator auth, which sets who is asking (`operator`, console/operator.ts).
   */
  routes(): PartRoutes {
    const actions = this.actions;
    const app = new Hono();
    app.post('/actions/:action', async (c) => {
      // Fail closed: an action needs someone signed in or the admin token, even on loopback.
      const operator = operatorOf(c);
      if (operator === null) return c.json({ error: 'sign in or present the admin token to act' }, 401);
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'the body must be a JSON object' }, 400);
      }
      const parsed = parseAction(c.req.param('action'), typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}, 'action');
      if (!parsed.ok) return c.json({ error: parsed.message }, 400);
      const result = await actions.run({ ...operator, via: 'api' }, parsed.action);
      return result.ok ? c.json(result) : c.json({ error: result.message, code: result.code }, result.status);
    });
    const pageDeps = this.pageDeps;
    // The page is built by the HTTP app, which hands it the sign-in's session and CSRF checks.
    if (!pageDeps) return { api: app };
    return { api: app, console: (auth: ConsoleMiddleware) => (this.page = createConsole({ ...pageDeps, ...auth })).app };
  }

  /** Ends the page's live streams and timers (the HTTP part, stopped before this one, cut their sockets). */
  stop(): void {
    this.page?.stop();
    this.page = null;
    this.running = null;
  }
}
