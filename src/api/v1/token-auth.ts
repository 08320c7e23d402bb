import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { findByToken, tokenDigest, touchToken } from '../../store/api-tokens.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { ACTOR_KEY, type Actor } from './actor.js';
import { ApiError } from './errors.js';

/*
 * Who calls /api/v1: an API token (src/store/api-tokens.ts) or the gateway's configured operator
 * token. Unlike the status page, the v1 API fails closed: without a configured operator token a
 * request still needs an API token, since provisioning writes the access data itself.
 */

/** last_used_at is bookkeeping: one write a minute per token at most, so reads stay reads. */
const TOUCH_INTERVAL_MS = 60_000;

export function tokenAuth(deps: { store: Store; operatorToken: string | undefined; clock: Clock }): MiddlewareHandler {
  const operatorDigest = deps.operatorToken === undefined ? undefined : tokenDigest(deps.operatorToken);
  const lastTouched = new Map<string, number>();

  const touch = (name: string): void => {
    const now = deps.clock.now();
    const last = lastTouched.get(name);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    lastTouched.set(name, now);
    try {
      touchToken(deps.store, name, now);
    } catch {
      // Best effort: a busy database (an import holding the lock) must not fail the request.
    }
  };

  const identify = (presented: string): Actor | undefined => {
    if (operatorDigest !== undefined && timingSafeEqual(tokenDigest(presented), operatorDigest)) return { name: 'api:operator', scope: 'admin' };
    const holder = findByToken(deps.store, presented);
    if (holder === undefined) return undefined;
    touch(holder.name);
    return { name: `api:${holder.name}`, scope: holder.scope };
  };

  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const actor = presented === '' ? undefined : identify(presented);
    if (actor === undefined) {
      c.header('www-authenticate', 'Bearer realm="lintel"');
      return c.json(new ApiError(401, 'unauthorized', presented === '' ? 'an API token is required (Authorization: Bearer …)' : 'unknown or revoked API token').body(), 401);
    }
    c.set(ACTOR_KEY as never, actor as never);
    await next();
  };
}
