import type { Context } from 'hono';
import { ApiError } from './errors.js';

/*
 * Who is calling /api/v1: set by the token middleware (src/api/v1/token-auth.ts) before any
 * route runs, read by the routes to enforce their scope and to name the caller in the change
 * audit. A route never looks at the Authorization header itself.
 */

export type Scope = 'read' | 'write' | 'admin';

export interface Actor {
  /** What the change audit names: "api:<token name>", or "api:operator" for the gateway's configured operator token. */
  readonly name: string;
  readonly scope: Scope;
}

const RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

/** Whether `held` allows what `needed` asks (admin ⊃ write ⊃ read). */
export function scopeAllows(held: Scope, needed: Scope): boolean {
  return RANK[held] >= RANK[needed];
}

export const ACTOR_KEY = 'lintelActor';

export function actorOf(c: Context): Actor {
  const actor = c.get(ACTOR_KEY as never) as Actor | undefined;
  // No middleware ran: fail closed rather than serve an unauthenticated caller.
  if (actor === undefined) throw new ApiError(401, 'unauthorized', 'no API token');
  return actor;
}

/** The caller, if their token's scope allows `needed`; a 403 `forbidden_scope` otherwise. */
export function requireScope(c: Context, needed: Scope): Actor {
  const actor = actorOf(c);
  if (!scopeAllows(actor.scope, needed)) throw new ApiError(403, 'forbidden_scope', `this route needs a ${needed} token`);
  return actor;
}
