import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { dummyVerify, verifyPassword } from '../../console/passwords.js';
import type { OperatorAccount } from '../../store/operators.js';
import { errorMessage } from '../../util/errors.js';
import { Limiter } from '../../util/limiter.js';
import type { Logger } from '../../util/log.js';
import { consoleSession, requireCsrf, SESSION_COOKIE, type ConsoleAuthDeps, type ConsoleAuthEnv } from './middleware.js';
import { clientIp, type LoginLimiter } from './rate-limit.js';
import { passwordStamp } from './sessions.js';
import { renderLoginPage } from './login-page.js';

/*
 * GET /login (the form), POST /login (form-urlencoded: name, password, next), POST /logout
 * (with the session's CSRF token). A sign-in always makes a new session id and drops the one the
 * browser came with, so an id planted before sign-in (fixation) is worth nothing after it.
 * Logged: every failed and successful sign-in, with the client address, never the password;
 * the name only when it is an account's (a password typed into the name field stays out of logs).
 */

export interface LoginDeps extends ConsoleAuthDeps {
  limiter: LoginLimiter;
  /** The account with its hash, for the password check. */
  findAccount(name: string): OperatorAccount | undefined;
  logger: Logger;
  behindTlsProxy: boolean;
}

const LoginForm = z.object({
  name: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  next: z.string().max(512).optional(),
});

/** Only a path on this gateway: `//evil.example` or `https://…` would make /login an open redirect. */
const safeNext = (next: string | undefined): string => (next !== undefined && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/');

/** Scrypt takes tens of ms and 32 MiB: at most two at once, so a login flood leaves the thread pool to the rest. */
const scryptSlots = new Limiter(2);

export function createLoginRoutes(deps: LoginDeps): Hono<ConsoleAuthEnv> {
  const app = new Hono<ConsoleAuthEnv>();
  const session = consoleSession(deps);
  const cookie = (c: Context, id: string) =>
    // Secure even over http://127.0.0.1: Chromium (checked by test/e2e/console-login.chromium.test.ts),
    // Firefox and Safari keep a Secure cookie from a loopback origin, and a LAN bind is https only.
    setCookie(c, SESSION_COOKIE, id, { httpOnly: true, sameSite: 'Strict', path: '/', secure: true, maxAge: Math.floor(deps.sessions.limits.absoluteMs / 1000) });

  app.get('/login', session, (c) => {
    if (c.get('operator') && c.get('authVia') === 'session') return c.redirect(safeNext(c.req.query('next')), 303);
    return c.html(renderLoginPage({ next: safeNext(c.req.query('next')), noAccounts: deps.operatorCount() === 0 }));
  });

  app.post('/login', async (c) => {
    const ip = clientIp(c, deps.behindTlsProxy);
    const parsed = LoginForm.safeParse(await c.req.parseBody());
    if (!parsed.success) return c.html(renderLoginPage({ next: '/', error: 'Enter a name and a password.' }), 400);
    const { name, password } = parsed.data;
    const next = safeNext(parsed.data.next);
    const attempt = deps.limiter.begin(ip, name);
    if (!attempt.ok) {
      deps.logger.warn({ ip, retryAfterSec: attempt.retryAfterSec }, 'console sign-in refused: too many failures');
      c.header('retry-after', String(attempt.retryAfterSec));
      return c.html(renderLoginPage({ next, error: `Too many failed sign-ins. Try again in ${attempt.retryAfterSec} s.` }), 429);
    }
    const account = deps.findAccount(name);
    let ok: boolean;
    try {
      ok = await scryptSlots.run(() => (account ? verifyPassword(password, account.passwordHash) : dummyVerify(password)));
    } catch (err) {
      deps.logger.error({ err: errorMessage(err) }, 'console sign-in: password check failed');
      return c.html(renderLoginPage({ next, error: 'Sign-in failed; try again.' }), 500);
    }
    if (!account || !ok) {
      deps.logger.warn(account ? { ip, operator: account.name } : { ip, unknownName: true }, 'console sign-in failed');
      return c.html(renderLoginPage({ next, error: 'Wrong name or password.' }), 401);
    }
    deps.limiter.succeeded(attempt);
    const previous = getCookie(c, SESSION_COOKIE);
    if (previous !== undefined) deps.sessions.destroy(previous);
    const made = deps.sessions.create({ name: account.name, role: account.role }, passwordStamp(account.passwordHash));
    cookie(c, made.id);
    deps.logger.info({ ip, operator: account.name, role: account.role }, 'console sign-in');
    return c.redirect(next, 303);
  });

  app.post('/logout', session, requireCsrf(), (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    if (id !== undefined) deps.sessions.destroy(id);
    const op = c.get('operator');
    if (op && c.get('authVia') === 'session') deps.logger.info({ operator: op.name }, 'console sign-out');
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'Strict' });
    return c.redirect('/login', 303);
  });
  return app;
}
