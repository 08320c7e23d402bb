import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { ConsoleEnv } from '../console/operator.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Operator auth for /api and the status page: `Authorization: Bearer <token>`, or HTTP Basic
 * with the token as password (so a browser can open the status page). Compared in constant
 * time over fixed-length digests. Without a configured token the gateway refuses to bind
 * anywhere but loopback (see Gateway.start), so "no token" means "loopback only".
 */
export function operatorAuth(token: string | undefined): MiddlewareHandler<ConsoleEnv> {
  const expected = token === undefined ? undefined : digest(token);
  return async (c, next) => {
    if (expected === undefined) return next();
    const header = c.req.header('authorization') ?? '';
    let presented: string | undefined;
    if (header.startsWith('Bearer ')) presented = header.slice(7);
    else if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      presented = decoded.slice(decoded.indexOf(':') + 1);
    }
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) {
      // The admin token acts as an admin (console/operator.ts); a request without it is anonymous.
      c.set('operator', { name: 'token', role: 'admin' });
      return next();
    }
    c.header('www-authenticate', 'Basic realm="lintel", charset="UTF-8"');
    return c.json({ error: 'unauthorized' }, 401);
  };
}
