import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { AccessIndex } from '../../src/access/access-index.js';
import { createHttpApp } from '../../src/http/app.js';
import { Metrics } from '../../src/metrics.js';
import { buildStatus, type StatusPart } from '../../src/status-builder.js';
import { silentLogger } from '../../src/util/log.js';

/*
 * /healthz and /readyz on the gateway's app (app.request(), no socket), from statuses the status
 * builder makes: what makes the gateway unready, what only degrades it, and who may ask.
 */

const config = parseConfig({
  site: { id: 'hz' },
  doors: [{ id: 'front', name: 'Front entrance' }],
  readers: [{ id: 'desk', kind: 'stdin', door: 'front' }],
});

const reader = (connected: boolean) => ({
  status: () => ({ id: 'desk', kind: 'stdin' as const, connected, lines: 0, dropped: { overlong: 0, garbage: 0 }, reconnects: 0, lastError: connected ? null : 'port gone' }),
});

/** A door-relay view from the states a real relay reports (door-states.ts DoorStatusEntry). */
const relay = (connected: boolean, online: boolean | null) => ({
  connected: () => connected,
  doorStatus: () => [{ doorId: 'front', driver: 'lintel' as const, reports: { acks: 'command-id' as const, relay: true, contact: true }, online, relay: 'locked' as const, contact: 'closed' as const, stateAt: 0, fw: null, lastAck: null, pendingAcks: 0, ackMissedAt: null }],
});

function app(part: StatusPart, token?: string) {
  const status = () => buildStatus({ ...part, config, version: 't', startedAt: 0, now: 1000 });
  return createHttpApp({ status, metrics: new Metrics(), logger: silentLogger, authToken: token, webhook: null, api: [], allowedHosts: [], maxBodyBytes: 65_536 });
}

const running: StatusPart = { dbOpen: true, index: new AccessIndex(), relay: relay(true, true), readers: [reader(true)] };

describe('/healthz and /readyz', () => {
  it('ready when the store, the index, the broker and every door are; /healthz up either way', async () => {
    const a = app(running);
    expect((await a.request('/readyz')).status).toBe(200);
    expect(await (await a.request('/readyz')).json()).toEqual({ status: 'ready' });
    expect(await (await a.request('/healthz')).json()).toEqual({ status: 'up' });
  });

  it('a door offline or the broker gone: 503 with only the failing checks', async () => {
    const offline = await app({ ...running, relay: relay(true, false) }).request('/readyz');
    expect(offline.status).toBe(503);
    expect(await offline.json()).toEqual({ status: 'not_ready', failing: { 'door:front': { ok: false, detail: 'controller offline' } } });
    const noBroker = await (await app({ ...running, relay: relay(false, null) }).request('/readyz')).json();
    expect(Object.keys((noBroker as { failing: object }).failing).sort()).toEqual(['door:front', 'mqtt']);
  });

  it('no index or no store: not ready, and /healthz still up', async () => {
    const noIndex = app({ ...running, index: undefined });
    expect(await (await noIndex.request('/readyz')).json()).toEqual({ status: 'not_ready', failing: { index: { ok: false, detail: 'not loaded' } } });
    const noStore = app({ ...running, dbOpen: false });
    expect((await noStore.request('/readyz')).status).toBe(503);
    expect((await noStore.request('/healthz')).status).toBe(200);
  });

  it('a reader fault degrades /health but leaves the gateway ready', async () => {
    const a = app({ ...running, readers: [reader(false)] });
    expect(((await (await a.request('/health')).json()) as { status: string }).status).toBe('degraded');
    expect((await a.request('/readyz')).status).toBe(200);
  });

  it('public with an operator token set (unlike /metrics), behind the Host check, and no door name in them', async () => {
    const a = app({ ...running, relay: relay(true, false) }, 'secret');
    expect((await a.request('/metrics')).status).toBe(401);
    for (const path of ['/healthz', '/readyz']) {
      const res = await a.request(path);
      expect(res.status).not.toBe(401);
      expect(await res.text()).not.toContain('Front entrance');
      expect((await a.request(path, { headers: { host: 'rebound.example.net' } })).status).toBe(421);
    }
  });
});
