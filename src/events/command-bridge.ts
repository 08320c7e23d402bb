import { ACTION_NAMES, parseAction, type Action, type ActionResult, type OperatorActions } from '../console/actions.js';
import type { Actor } from '../console/operator.js';
import { decodeJson, ProtocolError } from '../doors/protocol.js';
import type { Logger } from '../util/log.js';
import type { EventSink } from './event-publisher.js';
import type { EventTopics } from './event-payloads.js';

/*
 * Operator commands over MQTT, zigbee2mqtt style: a JSON request on
 * `<prefix>/<site>/bridge/request/<action>` is parsed with the one ActionSchema and run through
 * the one OperatorActions, as a click on the console is; the answer goes to
 * `.../bridge/response/<action>` with the request's `transaction`. There is no login on this
 * channel: whoever the broker lets publish there acts as the configured actor and role, so the
 * broker's ACL is the gate (firmware-protocol/events.md). A request that cannot be parsed is
 * answered with an error and does nothing.
 */

/** Requests running at once; past it a request is refused (busy), so a flood cannot pile up work. */
export const MAX_IN_FLIGHT = 16;
const MAX_TRANSACTION = 128;

export type BridgeError = { code: string; message: string };

export interface CommandBridgeOptions {
  topics: EventTopics;
  sink: EventSink;
  actor: () => Actor;
  /** Null until the coordinator wires them: every request is then answered `unavailable`. */
  actions: () => OperatorActions | null;
  logger: Logger;
  failed: (task: string, err: unknown) => void;
}

type Parsed = { ok: true; action: Action; transaction?: string } | { ok: false; error: BridgeError; transaction?: string };

/** A request's payload: a JSON object, the action's fields and an optional transaction. Empty means `{}`. */
export function parseRequest(action: string, payload: Buffer | string): Parsed {
  let body: unknown;
  try {
    body = payload.length === 0 ? {} : decodeJson(payload);
  } catch (err) {
    return { ok: false, error: { code: 'invalid', message: err instanceof ProtocolError ? err.message : 'payload is not JSON' } };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: { code: 'invalid', message: 'payload must be a JSON object' } };
  const { transaction, ...fields } = body as Record<string, unknown>;
  if (transaction !== undefined && (typeof transaction !== 'string' || transaction.length === 0 || transaction.length > MAX_TRANSACTION)) {
    return { ok: false, error: { code: 'invalid', message: `transaction: a string of 1-${MAX_TRANSACTION} characters` } };
  }
  if (!(ACTION_NAMES as string[]).includes(action)) {
    return { ok: false, error: { code: 'unknown_action', message: `no action "${action}"; one of ${ACTION_NAMES.join(', ')}` }, transaction };
  }
  const parsed = parseAction(action, fields, '(root)');
  if (!parsed.ok) return { ok: false, error: { code: 'invalid', message: parsed.message }, transaction };
  return { ok: true, action: parsed.action, transaction };
}

/** The response body of firmware-protocol/schemas/bridge-response.schema.json. */
export function responsePayload(result: ActionResult | { ok: false; code: string; message: string }, transaction: string | undefined): string {
  const body: Record<string, unknown> = result.ok
    ? { status: 'ok', data: { message: result.message, ...result.detail } }
    : { status: 'error', error: { code: result.code, message: result.message } };
  if (transaction !== undefined) body.transaction = transaction;
  return JSON.stringify(body);
}

export class CommandBridge {
  private inFlight = 0;
  readonly counts = { ok: 0, error: 0 };

  constructor(private readonly opts: CommandBridgeOptions) {}

  /** A message on `bridge/request/<action>`; never throws. */
  request(action: string, payload: Buffer): void {
    // Answered on the topic the requester named, even an unknown action: that is where it listens.
    const parsed = parseRequest(action, payload);
    if (!parsed.ok) return this.answer(action, { ok: false, ...parsed.error }, parsed.transaction);
    this.run(parsed.action, (result) => this.answer(action, result, parsed.transaction));
  }

  /**
   * Runs one parsed action through OperatorActions (for the Home Assistant lock too, which has
   * no response topic of its own); `done` always gets an outcome.
   */
  run(action: Action, done: (result: ActionResult | { ok: false; code: string; message: string }) => void): void {
    const actions = this.opts.actions();
    if (!actions) return done({ ok: false, code: 'unavailable', message: 'operator actions are not available yet' });
    if (this.inFlight >= MAX_IN_FLIGHT) return done({ ok: false, code: 'unavailable', message: `busy: ${MAX_IN_FLIGHT} requests already running` });
    this.inFlight += 1;
    const actor = this.opts.actor();
    let outcome: Promise<ActionResult>;
    try {
      outcome = actions.run(actor, action);
    } catch (err) {
      outcome = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    outcome
      .catch((err: unknown): ActionResult => {
        // run() is documented never to throw; if it does, the requester still gets an answer.
        this.opts.failed('mqtt-command', err);
        return { ok: false, code: 'unavailable', message: 'the action failed', status: 503 };
      })
      .then((result) => {
        this.opts.logger.info({ action: action.action, actor: `${actor.via}:${actor.name}`, ok: result.ok, code: result.ok ? undefined : result.code }, 'mqtt command');
        done(result);
      })
      .catch((err: unknown) => this.opts.failed('mqtt-command-response', err))
      .finally(() => void (this.inFlight -= 1));
  }

  private answer(action: string, result: ActionResult | { ok: false; code: string; message: string }, transaction: string | undefined): void {
    this.counts[result.ok ? 'ok' : 'error'] += 1;
    try {
      this.opts.sink.publish(this.opts.topics.response(action), responsePayload(result, transaction));
    } catch (err) {
      this.opts.failed('mqtt-command-response', err);
    }
  }
}
