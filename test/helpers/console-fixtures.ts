import type { MiddlewareHandler } from 'hono';
import { REQUIRED_ROLE, type Action, type ActionResult, type OperatorActions } from '../../src/console/actions.js';
import { actorLabel, roleAtLeast, type Actor, type ConsoleEnv, type Operator } from '../../src/console/operator.js';

/*
 * The console's injected parts for tests, until the session store (login helper) and the real
 * OperatorActions (coordinator) are merged: a session that is one given operator with one
 * given token, a CSRF check that compares the form's `_csrf` with it, and actions that check
 * the role as the real use case does and record what they were asked.
 */

export function fixedSession(operator: Operator | null, token: string | null): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    c.set('operator', operator);
    c.set('csrf', operator ? token : null);
    await next();
  };
}

/** Several sessions on one app: the `sid` cookie picks one (no cookie: anonymous). */
export function cookieSessions(table: Record<string, { operator: Operator; token: string }>): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const sid = /(?:^|;\s*)sid=([^;]+)/.exec(c.req.header('cookie') ?? '')?.[1];
    const s = sid === undefined ? undefined : table[sid];
    c.set('operator', s?.operator ?? null);
    c.set('csrf', s?.token ?? null);
    await next();
  };
}

export const formCsrf: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const body = await c.req.parseBody();
  const expected = c.get('csrf');
  if (!expected || body._csrf !== expected) return c.text('CSRF token missing or wrong', 403);
  await next();
};

export interface RecordedRun {
  actor: string;
  role: Operator['role'];
  action: Action;
}

/** Checks the role like the real OperatorActions, records, and answers with what `answer` says (ok by default). */
export class RecordingActions implements OperatorActions {
  readonly runs: RecordedRun[] = [];

  constructor(private readonly answer: (a: Action) => ActionResult = (a) => ({ ok: true, action: a.action, message: `${a.action} done`, detail: {} })) {}

  async run(actor: Actor, action: Action): Promise<ActionResult> {
    if (!roleAtLeast(actor.role, REQUIRED_ROLE[action.action])) return { ok: false, code: 'forbidden_role', message: 'role', status: 403 };
    this.runs.push({ actor: actorLabel(actor), role: actor.role, action });
    return this.answer(action);
  }
}

/** A form body as a browser posts it. */
export function form(fields: Record<string, string>): { method: 'POST'; body: string; headers: Record<string, string> } {
  return { method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
}
