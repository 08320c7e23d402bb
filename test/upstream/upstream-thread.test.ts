import { serve, type ServerType } from '@hono/node-server';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { openSiteStore } from '../../src/site-store.js';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { syncFromConfig } from '../../src/store/doors.js';
import { UpstreamThread } from '../../src/upstream/upstream-thread-host.js';
import { systemClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { waitFor } from '../helpers/lintel-process.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The upstream thread for real: the built worker (dist/), its own SQLite connection to a real
 * file, the simulated platform over loopback HTTP, and callbacks arriving at a loopback server
 * that mounts the host's webhook app, as the gateway does.
 */

const TOKEN = 'tok-thread-1';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function listen(app: Hono): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve({ server, port: info.port }));
  });
}

function captureLogger(lines: string[]) {
  return createLogger('info', { write: (l: string) => void lines.push(l) });
}

async function site(opts: { entry?: URL; clock?: FakeClock } = {}) {
  const sim = new UpstreamSimulator({ clock: systemClock, tokens: [TOKEN] });
  await sim.start();
  sim.addResource({ resourceId: 'R-1', timeZone: 'Europe/Amsterdam' });
  cleanups.push(() => sim.stop());
  const root = new Hono();
  const { server, port } = await listen(root);
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const tmp = tempDir('lintel-thread-');
  cleanups.push(() => tmp.cleanup());
  const dir = tmp.dir;
  const config: Config = parseConfig({
    site: { id: 'thr' },
    dataDir: join(dir, 'data'),
    doors: [{ id: 'door-1' }],
    resources: [{ id: 'R-1', doors: ['door-1'] }],
    upstream: { baseUrl: sim.baseUrl, callbackUrl: `http://127.0.0.1:${port}/webhooks/offision`, token: TOKEN, requestTimeoutMs: 2000 },
  });
  // The main thread's part: the database migrated and the mapping stored before the thread starts.
  const { store } = openSiteStore(config);
  syncFromConfig(store, config);
  store.close();
  const lines: string[] = [];
  const failures: string[] = [];
  let commits = 0;
  const host = new UpstreamThread({
    config,
    token: TOKEN,
    clock: opts.clock ?? systemClock,
    logger: captureLogger(lines),
    countFailure: (task) => failures.push(task),
    onCommitted: () => commits++,
    entry: opts.entry,
  });
  cleanups.push(() => host.stop());
  // Mounted before the first request: the router is built then.
  root.route('/webhooks/offision', host.webhookApp());
  await host.start();
  return { sim, host, config, lines, failures, commits: () => commits, port, db: () => new Database(join(config.dataDir, 'lintel.db'), { readonly: true }) };
}

describe('UpstreamThread', () => {
  it('subscribes, turns a signed callback into grants on its own connection, and says it committed', async () => {
    const s = await site();
    await waitFor('subscribed', () => (s.host.status().subscriptions.some((x) => x.state === 'active') ? true : undefined), 10_000);
    const now = Date.now();
    s.sim.createAppointment({ appointmentId: 'A-1', resourceId: 'R-1', start: now - 60_000, end: now + 3_600_000, organizer: { email: 'ada@example.com' } });
    const db = s.db();
    const grant = await waitFor(
      'grant from the callback',
      () => db.prepare("SELECT g.door_id AS door FROM grants g JOIN people p ON p.id = g.person_id WHERE p.email = 'ada@example.com' AND g.source = 'booking'").get() as { door: string } | undefined,
      10_000,
    );
    db.close();
    expect(grant.door).toBe('door-1');
    // The message follows the commit (coalesced to the end of the thread's macrotask).
    await waitFor('committed message', () => (s.commits() > 0 ? true : undefined), 5000);
    await waitFor('status shows the accepted callback', () => (s.host.status().callbacks.accepted >= 1 ? true : undefined), 5000);
    expect(s.host.status().state).toBe('ok');
    // The thread's log lines come out of the gateway's logger.
    expect(s.lines.some((l) => l.includes('"msg"'))).toBe(true);
    expect(s.failures).toEqual([]);
  });

  it("answers an operator's reconcile-now with the sweep's report, and refuses once stopped", async () => {
    const s = await site();
    await waitFor('subscribed', () => (s.host.status().subscriptions.some((x) => x.state === 'active') ? true : undefined), 10_000);
    const now = Date.now();
    s.sim.createAppointment({ appointmentId: 'A-9', resourceId: 'R-1', start: now - 60_000, end: now + 3_600_000, organizer: { email: 'ada@example.com' } });
    const report = await s.host.reconcileNow();
    expect(report).toMatchObject({ resources: 1, failed: 0 });
    expect(report.appointments).toBeGreaterThanOrEqual(1);
    await s.host.stop();
    await expect(s.host.reconcileNow()).rejects.toThrow(/restarting/);
  });

  it('refuses an oversized body before it crosses to the thread, and an unsigned one in the thread', async () => {
    const s = await site();
    const url = `http://127.0.0.1:${s.port}/webhooks/offision`;
    const big = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(s.config.upstream!.maxCallbackBytes + 1) });
    expect(big.status).toBe(413);
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ error: 'missing signature headers' });
    await waitFor('counted', () => (s.host.status().callbacks.rejected['401'] === 1 ? true : undefined), 5000);
    expect(s.host.status().callbacks.rejected['413']).toBe(1);
  });

  it('a thread that dies is restarted with backoff; meanwhile callbacks get 503 with Retry-After', async () => {
    const clock = new FakeClock(Date.now());
    const s = await site({ clock, entry: new URL('data:text/javascript,process.exit(3)') });
    await waitFor('restart scheduled', () => (s.failures.includes('upstream-thread') ? true : undefined), 5000);
    const st = s.host.status();
    expect(st.state).toBe('degraded');
    expect(st.lastError).toMatch(/restarting in/);
    const res = await fetch(`http://127.0.0.1:${s.port}/webhooks/offision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    // The backoff is on the injected clock: advancing it starts the thread again, which dies again.
    clock.advance(2000);
    await waitFor('second restart', () => (s.failures.filter((f) => f === 'upstream-thread').length >= 2 ? true : undefined), 5000);
  });

  it('runs at a lower CPU priority than the process (nice 10 on its own thread), the main thread untouched', async () => {
    const s = await site();
    await waitFor('status from the thread', () => (s.host.status().lastSuccessAt !== null ? true : undefined), 10_000);
    // /proc/PID/task/TID/stat: field 19 is the nice value (after the parenthesised name).
    const nice = (tid: string) => Number(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const tids = readdirSync(`/proc/${process.pid}/task`);
    expect(tids.filter((t) => nice(t) === 10)).toHaveLength(1);
    expect(nice(String(process.pid))).toBe(0);
  });

  it('stop() ends the thread and its connection', async () => {
    const s = await site();
    await waitFor('status from the thread', () => (s.host.status().lastSuccessAt !== null ? true : undefined), 10_000);
    await s.host.stop();
    // Nothing holds the file: a writer gets the lock at once.
    const db = new Database(join(s.config.dataDir, 'lintel.db'));
    db.pragma('busy_timeout = 0');
    expect(() => db.exec('BEGIN IMMEDIATE; COMMIT')).not.toThrow();
    db.close();
    const res = await fetch(`http://127.0.0.1:${s.port}/webhooks/offision`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
  });
});
