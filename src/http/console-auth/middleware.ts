import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { roleAtLeast, type ConsoleEnv, type Operator, type Role } from '../../console/operator.js';
import { passwordStamp, type SessionStore } from './sessions.js';

/*
 * Who is at the console, for `/`, `/metrics` and the operator's `/api/*` (not /api/v1, not the
 * webhook). consoleSession sets `operator` and `csrf` (ConsoleEnv) from, in this order:
 * - `Authorization: Bearer <http.authToken>`, or HTTP Basic with the token as password (scripts,
 *   Prometheus, and browsers as before the login page): the operator {name: 'token', role: 'admin'};
 * - the session cookie set at /login: the account, with its role as stored now (the session of
 *   an account removed or given a new password since ends at its next request);
 * - nobody: operator null. On loopback with no token and no accounts that is the old anonymous
 *   status page (`open`); anywhere else requireRole sends the visitor to /login.
 */

export const SESSION_COOKIE = 'lintel_session';

/** How the request was authenticated; requireCsrf asks for a token only of `session`. */
export type AuthVia = 'token' | 'session' | 'open' | null;
/** `form`: a browser is sent to /login; `basic`: no account exists, so the token is asked for by a Basic challenge, as before accounts. */
export type SignIn = 'form' | 'basic';
export type ConsoleAuthEnv = { Variables: ConsoleEnv['Variables'] & { authVia: AuthVia; signIn: SignIn } };

export interface ConsoleAuthDeps {
  sessions: SessionStore;
  authToken: string | undefined;
  /** The account as stored now (role and password hash; undefined once removed). A WAL read: no lock, no wait. */
  findOperator(name: string): (Operator & { passwordHash: string }) | undefined;
  operatorCount(): number;
  /** Whether http.host is a loopback address: the only bind where an anonymous visitor may look. */
  loopback: boolean;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
/** Constant time over fixed-length digests, whatever the lengths presented. */
export const sameSecret = (presented: string, expected: Buffer): boolean => timingSafeEqual(digest(presented), expected);

function presentedToken(c: Context): string | undefined {
  const header = c.req.header('authorization') ?? '';
  if (header.startsWith('Bearer ')) return header.slice(7);
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return undefined;
}

export const TOKEN_OPERATOR: Operator = Object.freeze({ name: 'token', role: 'admin' });

export function consoleSession(deps: ConsoleAuthDeps): MiddlewareHandler<ConsoleAuthEnv> {
  const expected = deps.authToken === undefined ? undefined : digest(deps.authToken);
  return async (c, next) => {
    c.set('operator', null);
    c.set('csrf', null);
    c.set('authVia', null);
    c.set('signIn', 'form');
    const presented = presentedToken(c);
    if (expected !== undefined && presented !== undefined && sameSecret(presented, expected)) {
      c.set('operator', TOKEN_OPERATOR);
      c.set('authVia', 'token');
      return next();
    }
    const id = getCookie(c, SESSION_COOKIE);
    const session = id === undefined ? null : deps.sessions.touch(id);
    if (id !== undefined && session) {
      const account = deps.findOperator(session.operator.name);
      // Its role as stored now; removed, or given a new password since: signed out.
      if (account && passwordStamp(account.passwordHash) === session.stamp) {
        c.set('operator', { name: account.name, role: account.role });
        c.set('csrf', session.csrf);
        c.set('authVia', 'session');
        return next();
      }
      // Only this session: others of the account may have signed in with the new password.
      deps.sessions.destroy(id);
    }
    const accounts = deps.operatorCount();
    if (deps.loopback && deps.authToken === undefined && accounts === 0) c.set('authVia', 'open');
    if (accounts === 0) c.set('signIn', 'basic');
    return next();
  };
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A state-changing request signed in by cookie must carry the session's CSRF token, as the
 * form field `_csrf` or the header `x-csrf-token`: 403 otherwise, before the handler runs, so a
 * refused request changes nothing. A Bearer request carries its credential in a header a
 * foreign page cannot set, and an anonymous one has no cookie to ride on: both pass.
 */
export function requireCsrf(): MiddlewareHandler<ConsoleAuthEnv> {
  return async (c, next) => {
    if (!STATE_CHANGING.has(c.req.method) || c.get('authVia') !== 'session') return next();
    const expected = c.get('csrf');
    let presented = c.req.header('x-csrf-token');
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (presented === undefined && (type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data')) {
      // parseBody caches the parsed form on the request: the handler reads it again for free.
      const field = (await c.req.parseBody())._csrf;
      if (typeof field === 'string') presented = field;
    }
    if (expected === null || presented === undefined || !sameSecret(presented, digest(expected))) return c.json({ error: 'missing or wrong CSRF token' }, 403);
    return next();
  };
}

/** A browser navigating (it asked for HTML): sent to /login rather than given a 401. */
const wantsHtml = (c: Context) => (c.req.method === 'GET' || c.req.method === 'HEAD') && (c.req.header('accept') ?? '').includes('text/html');

/**
 * At least `role`: a lower role is 403; nobody is sent to /login (a browser, once an account
 * exists) or answered 401 with a Basic challenge for the token (a script, or any client while
 * the token is the only credential there is: as before the login page). The anonymous loopback page
 * passes `viewer` only: acting needs an account or the token, even on loopback.
 */
export function requireRole(role: Role): MiddlewareHandler<ConsoleAuthEnv> {
  return async (c, next) => {
    const op = c.get('operator');
    if (op) return roleAtLeast(op.role, role) ? next() : c.json({ error: `forbidden: needs the ${role} role` }, 403);
    if (role === 'viewer' && c.get('authVia') === 'open') return next();
    if (wantsHtml(c) && c.get('signIn') === 'form') return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    c.header('www-authenticate', 'Basic realm="lintel", charset="UTF-8"');
    return c.json({ error: 'unauthorized' }, 401);
  };
}
