import { afterEach, describe, expect, it } from 'vitest';
import { parsePromText, promValue } from '../helpers/prom-text.js';
import { startGatewayRig } from '../helpers/gateway-rig.js';
import { until } from '../helpers/lintel-process.js';

/*
 * Door health through the whole gateway over real HTTP: with both door controllers offline the
 * page's header and /health used to say "ok". They say degraded now, /readyz refuses with the
 * failing doors, /metrics has them unhealthy, and /healthz still answers (the process is up).
 */

interface Health { status: string; checks: Record<string, { ok: boolean; detail: string }> }
interface Ready { status: string; failing?: Record<string, { ok: boolean; detail: string }> }

describe('door health, end to end', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('both controllers offline: /health and the page say degraded, /readyz 503 names the doors, /healthz 200', async () => {
    const { gateway, doors: sims, base } = await startGatewayRig(cleanups, 'dh', {
      doors: [{ id: 'front', name: 'Front entrance' }, { id: 'orion', name: 'Orion room' }],
    }, ['front', 'orion']);
    const get = (path: string) => fetch(`${base}${path}`);

    await until('both doors online', () => gateway.relay.doorStatus().every((d) => d.online === true));
    const healthy = (await (await get('/health')).json()) as Health;
    expect(healthy.status).toBe('ok');
    expect(healthy.checks['door:front']).toEqual({ ok: true, detail: 'online' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect(promValue(parsePromText(await (await get('/metrics')).text()), 'lintel_door_healthy', { door: 'front' })).toBe(1);

    for (const sim of sims) await sim.stop();
    await until('both doors offline', () => gateway.relay.doorStatus().every((d) => d.online === false));

    const health = await get('/health');
    expect(health.status).toBe(200); // degraded, not failing: the gateway still decides and logs
    const h = (await health.json()) as Health;
    expect(h.status).toBe('degraded');
    expect(h.checks['door:front']).toEqual({ ok: false, detail: 'controller offline' });
    expect(h.checks['door:orion']).toEqual({ ok: false, detail: 'controller offline' });

    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    const r = (await notReady.json()) as Ready;
    expect(r).toEqual({ status: 'not_ready', failing: { 'door:front': { ok: false, detail: 'controller offline' }, 'door:orion': { ok: false, detail: 'controller offline' } } });

    const live = await get('/healthz');
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'up' });

    // Public probes show states, never a door's name.
    for (const path of ['/health', '/readyz', '/healthz']) {
      const body = await (await get(path)).text();
      expect(body).not.toContain('Front entrance');
      expect(body).not.toContain('Orion room');
    }
    const metrics = parsePromText(await (await get('/metrics')).text());
    for (const door of ['front', 'orion']) {
      expect(promValue(metrics, 'lintel_door_healthy', { door })).toBe(0);
      expect(promValue(metrics, 'lintel_door_online', { door })).toBe(0);
    }
    const page = await (await get('/')).text();
    expect(page).toContain('<span class="health health-degraded" id="health">degraded</span>');
  }, 30_000);
});
