import type { Env, Hono } from 'hono';
import { readinessChecks } from '../status-builder.js';
import type { GatewayStatus } from './status.js';

/**
 * The probes a supervisor or a load balancer asks (Kubernetes' names, which Docker and
 * systemd-side checks copy). Public like /health and behind the same Host check: they answer
 * with states and check keys (ids such as `door:front`), never a person's or a door's name.
 *
 * /healthz: the process answers. It reads nothing, so a gateway whose broker, store or doors
 * are in trouble is still "up": restarting it would not fix them and would cost the local
 * decisions it still makes.
 *
 * /readyz: the gateway can do its job here, now: the store is open, the index is loaded, the
 * broker is connected and every configured door's controller is online and acknowledging.
 * Otherwise 503 with just the failing checks (readers and the booking platform degrade the
 * gateway, see /health, but do not make it unready: the other readers and the local grants work).
 */
export function mountHealthRoutes<E extends Env>(app: Hono<E>, status: () => GatewayStatus): void {
  app.get('/healthz', (c) => c.json({ status: 'up' }, 200));
  app.get('/readyz', (c) => {
    const failing = Object.fromEntries(Object.entries(readinessChecks(status().checks)).filter(([, check]) => !check.ok));
    if (Object.keys(failing).length === 0) return c.json({ status: 'ready' }, 200);
    return c.json({ status: 'not_ready', failing }, 503);
  });
}
