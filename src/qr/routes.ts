import { Hono } from 'hono';
import { z } from 'zod';
import { QrIssueError, type IssuedToken } from './issuer.js';

const issueBody = z.object({ email: z.email().max(254) }).strict();

/**
 * `POST /qr/tokens {"email": "..."}` → 201 `{ token, expiresAt }` (RFC 3339). Mounted by the
 * composition root under /api, behind operator auth. The token is a bearer credential: it is
 * returned once and never logged.
 */
export function createQrRoutes(deps: { issue: (email: string) => IssuedToken }): Hono {
  const app = new Hono();
  app.post('/qr/tokens', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'body must be JSON' }, 400);
    }
    const parsed = issueBody.safeParse(body);
    if (!parsed.success) return c.json({ error: 'body must be {"email": "<address>"}' }, 400);
    try {
      const issued = deps.issue(parsed.data.email);
      return c.json({ token: issued.token, expiresAt: new Date(issued.expiresAt).toISOString() }, 201);
    } catch (err) {
      if (err instanceof QrIssueError) {
        if (err.code === 'unknown_person') return c.json({ error: 'unknown person' }, 404);
        return err.code === 'person_suspended'
          ? c.json({ error: 'person is suspended' }, 409)
          : c.json({ error: 'every card of the person is disabled or lost' }, 409);
      }
      throw err;
    }
  });
  return app;
}
