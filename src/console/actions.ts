import { z } from 'zod';
import type { Actor, Role } from './operator.js';

/*
 * The operator's actions, one schema for every channel: the console's forms, the operator API
 * (/api/actions) and the MQTT commands (`<prefix>/<site>/bridge/request/<action>`) all parse
 * their input with ActionSchema and run it through one OperatorActions (operator-actions.ts), so
 * a pulse from Home Assistant is checked, done and audited exactly as a click on the page is.
 */

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
const email = z.email().max(254);
/** A card number as the person's card list shows it (normalised decimal); never logged in full. */
const card = z.string().min(1).max(64).regex(/^[0-9A-Za-z]+$/, 'the card number as stored');

export const ActionSchema = z.discriminatedUnion('action', [
  /** One unlock pulse, as a granted badge gives. */
  z.strictObject({ action: z.literal('door.pulse'), door: id }),
  /** Held unlocked for N minutes (a pulse train, doors/door-hold.ts), until released or lockdown. */
  z.strictObject({ action: z.literal('door.hold'), door: id, minutes: z.coerce.number().int().min(1).max(24 * 60) }),
  z.strictObject({ action: z.literal('door.release'), door: id }),
  z.strictObject({ action: z.literal('lockdown.set'), on: z.boolean() }),
  z.strictObject({ action: z.literal('card.disable'), email, card }),
  z.strictObject({ action: z.literal('person.suspend'), email }),
  z.strictObject({ action: z.literal('person.reinstate'), email }),
  z.strictObject({ action: z.literal('person.revoke-tokens'), email }),
  z.strictObject({ action: z.literal('antipassback.forgive'), email }),
  z.strictObject({ action: z.literal('upstream.reconcile') }),
  z.strictObject({ action: z.literal('alarm.acknowledge'), alarm: z.string().min(1).max(128) }),
  /** Learn mode: the next card read on this reader is captured (not decided) and shown unmasked to the admin who armed it. */
  z.strictObject({ action: z.literal('reader.learn'), reader: id }),
  /** Gives the card captured by a learn to a person, in one step. */
  z.strictObject({ action: z.literal('learned.assign'), learn: z.string().min(1).max(64), email }),
]);

export type Action = z.infer<typeof ActionSchema>;
export type ActionName = Action['action'];
export const ACTION_NAMES = ActionSchema.options.map((o) => o.shape.action.value) as ActionName[];

/** The least role that may run each action, on every channel. */
export const REQUIRED_ROLE: Record<ActionName, Role> = {
  'door.pulse': 'operator',
  'door.hold': 'operator',
  'door.release': 'operator',
  'lockdown.set': 'operator',
  'card.disable': 'operator',
  'person.suspend': 'operator',
  'person.reinstate': 'operator',
  'person.revoke-tokens': 'operator',
  'antipassback.forgive': 'operator',
  'upstream.reconcile': 'operator',
  'alarm.acknowledge': 'operator',
  'reader.learn': 'admin',
  'learned.assign': 'admin',
};

/** Why an action was refused; `status` is the HTTP answer, the same code goes back over MQTT. */
export type ActionRefusal = {
  ok: false;
  code: 'forbidden_role' | 'not_found' | 'conflict' | 'unavailable' | 'invalid';
  message: string;
  status: 400 | 403 | 404 | 409 | 503;
};

export type ActionResult =
  | { ok: true; action: ActionName; message: string; detail: Record<string, unknown> }
  | ActionRefusal;

/** The one use case every channel calls. It checks the role, acts, audits with the actor, never throws. */
export interface OperatorActions {
  run(actor: Actor, action: Action): Promise<ActionResult>;
}

/**
 * One action from a channel's fields (a form, a JSON body, an MQTT payload) and its name (the
 * route or topic): the action or a message naming each failing field. `root` names an issue
 * with no field (the whole input), as the channel calls it.
 */
export function parseAction(name: string, fields: Record<string, unknown>, root: string): { ok: true; action: Action } | { ok: false; message: string } {
  const parsed = ActionSchema.safeParse({ ...fields, action: name });
  if (parsed.success) return { ok: true, action: parsed.data };
  return { ok: false, message: parsed.error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ') };
}
