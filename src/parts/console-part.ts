import { Hono } from 'hono';
import { ActionSchema, type OperatorActions } from '../console/actions.js';
import { ConsoleActions } from '../console/operator-actions.js';
import { operatorOf } from '../console/operator.js';
import type { AlarmSource } from '../doors/alarm-types.js';
import type { AccessPart } from './access-part.js';
import type { ApiPart } from './api-part.js';
import type { DecisionsPart } from './decisions-part.js';
import type { DoorHoldPart } from './door-hold-part.js';
import { SYNC_STOP_BOUND_MS, type Part, type PartContext, type PartRoutes } from './part.js';
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
      reconcile: upstream.link ? () => upstream.link!.reconcileNow() : null,
      alarms: () => this.alarmSource(),
      learn: decisions.learn,
      readerKnown: (reader) => ctx.config().readers.some((r) => r.id === reader),
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
    });
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
      const parsed = ActionSchema.safeParse({ ...(typeof body === 'object' && body !== null ? body : {}), action: c.req.param('action') });
      if (!parsed.success) return c.json({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'action'}: ${i.message}`).join('; ') }, 400);
      const result = await actions.run({ ...operator, via: 'api' }, parsed.data);
      return result.ok ? c.json(result) : c.json({ error: result.message, code: result.code }, result.status);
    });
    return { api: app };
  }

  stop(): void {
    this.running = null;
  }
}
