import Database from 'better-sqlite3';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Gateway } from '../../src/gateway.js';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { signWebhook } from '../../src/upstream/signature.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { freePort, startTestBroker } from '../helpers/broker.js';
import { until } from '../helpers/lintel-process.js';
import { tempDir } from '../helpers/tmp.js';
import { tableHashes } from '../helpers/v1-api.js';

/*
 * Two locations on one gateway (issue 12), each against its own instance of the platform
 * simulator, over real loopback HTTP, a real broker and a real SQLite file kept across restarts.
 * The upstream threads run the build: `npm run build` first.
 */

const TOKEN = 'operator-token-for-the-locations-test';
const readers = [
  { id: 'front-desk', kind: 'stdin', door: 'front' },
  { id: 'side-desk', kind: 'stdin', door: 'side' },
] as const;

describe('locations, end to end', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function platform(resourceId: string, token: string): Promise<UpstreamSimulator> {
    const sim = new UpstreamSimulator({ clock: systemClock, tokens: [token] });
    await sim.start();
    sim.addResource({ resourceId, timeZone: 'Europe/Amsterdam' });
    cleanups.push(() => sim.stop());
    return sim;
  }

  async function world() {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const [hq, annex] = [await platform('R-HQ', 'tok-hq'), await platform('R-AX', 'tok-ax')];
    const port = await freePort();
    const protocolVersion = broker.protocolVersions.includes(5) ? 5 : 4;
    const configFor = (annexState: { connection: 'connected' | 'disconnected'; onDisconnect?: 'keep' | 'revoke' }): Config =>
      parseConfig({
        site: { id: 'acme' },
        dataDir: join(dir, 'data'),
        http: { host: '127.0.0.1', port, authToken: TOKEN },
        mqtt: { url: broker.url, protocolVersion },
        doors: [
          { id: 'front', location: 'hq' },
          { id: 'side', location: 'annex' },
        ],
        readers,
        resources: [
          { id: 'R-HQ', doors: ['front'], location: 'hq' },
          { id: 'R-AX', doors: ['side'], location: 'annex' },
        ],
        zones: { annex: { doors: ['side'] } },
        accessGroups: { 'annex-members': { zones: [{ zone: 'annex' }] } },
        locations: [
          { id: 'hq', upstream: { baseUrl: hq.baseUrl, callbackUrl: `http://127.0.0.1:${port}/webhooks/offision/hq`, token: 'tok-hq', requestTimeoutMs: 2000 } },
          {
            id: 'annex',
            upstream: { baseUrl: annex.baseUrl, callbackUrl: `http://127.0.0.1:${port}/webhooks/offision/annex`, token: 'tok-ax', requestTimeoutMs: 2000 },
            ...annexState,
          },
        ],
      });
    let gateway: Gateway | null = null;
    const start = async (cfg: Config) => {
      gateway = new Gateway({ config: cfg, logger: silentLogger, stdin: () => new PassThrough() });
      await gateway.start();
      return gateway;
    };
    const stop = async () => {
      await gateway?.stop();
      gateway = null;
    };
    cleanups.push(stop);
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const swipe = async (readerId: string, card: string) => {
      const g = gateway!;
      const reader = g.config.readers.find((r) => r.id === readerId)!;
      const before = g.recent.list().length;
      g.pipeline.onLine(reader, card);
      await until('decision', () => g.recent.list().length > before);
      return g.recent.list()[0]!.reason;
    };
    const db = () => new Database(join(dir, 'data', 'lintel.db'), { readonly: true });
    /** The tables' hashes, of the tables named only: the headquarters' link keeps writing its own state meanwhile. */
    const hashes = (...tables: string[]) => {
      const d = db();
      try {
        const all = tableHashes(d);
        return Object.fromEntries(tables.map((t) => [t, all[t]]));
      } finally {
        d.close();
      }
    };
    const query = <T>(sql: string, ...args: unknown[]) => {
      const d = db();
      try {
        return d.prepare(sql).all(...args) as T[];
      } finally {
        d.close();
      }
    };
    const subscribed = (sim: UpstreamSimulator) => until('subscribed', () => sim.liveSubscriptions().length > 0, 15_000);
    const book = (sim: UpstreamSimulator, resourceId: string, email: string, id: string) => {
      const now = Date.now();
      sim.createAppointment({ appointmentId: id, resourceId, start: now - 10 * 60_000, end: now + 2 * 3_600_000, organizer: { email } });
    };
    return { hq, annex, port, configFor, start, stop, call, swipe, hashes, query, subscribed, book };
  }

  it('each location subscribes for its own resources, grants on its own doors, and keeps or revokes when disconnected', async () => {
    const w = await world();
    await w.start(w.configFor({ connection: 'connected' }));
    for (const [email, card] of [['ana@example.com', '7340861'], ['bo@example.com', '7340862'], ['cy@example.com', '7340863']] as const) {
      expect((await w.call('PUT', `/api/v1/people/${email}`, { name: email })).status).toBe(201);
      expect((await w.call('PUT', `/api/v1/people/${email}/cards/${card}`, {})).status).toBe(201);
    }
    await w.subscribed(w.hq);
    await w.subscribed(w.annex);
    // Each platform was asked for its own location's resources only, at its own path.
    expect(w.hq.liveSubscriptions().map((s) => [s.resourceIds, s.callUrl])).toEqual([[['R-HQ'], expect.stringMatching(/\/webhooks\/offision\/hq$/)]]);
    expect(w.annex.liveSubscriptions().map((s) => [s.resourceIds, s.callUrl])).toEqual([[['R-AX'], expect.stringMatching(/\/webhooks\/offision\/annex$/)]]);
    expect(w.query<{ location: string; n: number }>('SELECT location, count(*) AS n FROM upstream_subscriptions GROUP BY location ORDER BY location')).toEqual([
      { location: 'annex', n: 1 },
      { location: 'hq', n: 1 },
    ]);

    // A callback to each path grants on that location's doors, and only there.
    w.book(w.hq, 'R-HQ', 'ana@example.com', 'A-HQ-1');
    w.book(w.annex, 'R-AX', 'bo@example.com', 'A-AX-1');
    await until('both booking grants', () => w.query("SELECT 1 FROM grants WHERE source = 'booking'").length === 2, 15_000);
    // A thread's commit reaches the index through the change log a moment later.
    await until('hq grant in the index', async () => (await w.swipe('front-desk', '7340861')) === 'granted', 10_000);
    expect(await w.swipe('side-desk', '7340861')).not.toBe('granted');
    await until('annex grant in the index', async () => (await w.swipe('side-desk', '7340862')) === 'granted', 10_000);
    expect(await w.swipe('front-desk', '7340862')).not.toBe('granted');
    // A plan subscription of the annex, while it is connected.
    const sub = { email: 'cy@example.com', groups: ['annex-members'], startsAt: new Date(Date.now() - 60_000).toISOString(), location: 'annex' };
    expect((await w.call('PUT', '/api/v1/subscriptions/PLAN-1', sub)).status).toBe(201);
    await until('plan subscription applied', async () => (await w.swipe('side-desk', '7340863')) === 'granted');
    expect((await w.call('PUT', '/api/v1/subscriptions/PLAN-X', { ...sub, location: 'moon' })).status).toBe(422);
    // A booking the annex's platform pushes through the API, while connected.
    const pushed = { resourceId: 'R-AX', startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), organizer: { email: 'ana@example.com' } };
    expect((await w.call('PUT', '/api/v1/bookings/B-AX', pushed)).status).toBe(201);
    await until('pushed booking applied', async () => (await w.swipe('side-desk', '7340861')) === 'granted');

    // The headquarters' signed callback sent to the annex's path: the annex's link holds no such
    // secret, so it is refused as a subscription it cannot verify (202, webhook.ts: a 401 would
    // only have the platform retry it for a day) and nothing is stored or granted.
    const hqSub = w.hq.liveSubscriptions()[0]!;
    const body = JSON.stringify({ subscriptionId: hqSub.subscriptionId, type: 'appointment.created', resourceId: 'R-HQ', appointmentId: 'A-HQ-2', dates: [new Date().toISOString().slice(0, 10)], occurredAt: new Date().toISOString() });
    const ts = Math.floor(Date.now() / 1000);
    const signed = (path: string) =>
      fetch(`http://127.0.0.1:${w.port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': 'msg-wrong-path', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(hqSub.secret, 'msg-wrong-path', ts, body) },
        body,
      });
    const before = w.hashes('appointments', 'grants', 'webhook_events');
    const wrong = await signed('/webhooks/offision/annex');
    expect(wrong.status).toBe(202);
    expect(await wrong.json()).toEqual({ error: 'unknown subscription, signature not verifiable' });
    expect((await signed('/webhooks/offision/nowhere')).status).toBe(404);
    expect((await signed('/webhooks/offision')).status).toBe(404);
    expect(w.hashes('appointments', 'grants', 'webhook_events')).toEqual(before);
    const status = (await (await w.call('GET', '/api/status')).json()) as { locations: Array<{ id: string; connection: string; upstream: { state: string } | null }> };
    expect(status.locations.map((l) => [l.id, l.connection, l.upstream?.state])).toEqual([
      ['hq', 'connected', 'ok'],
      ['annex', 'connected', 'ok'],
    ]);

    // Disconnected, keep: the annex's link does not run; what it granted stays, nothing new is granted.
    await w.stop();
    await w.start(w.configFor({ connection: 'disconnected' }));
    await until('hq resubscribed', () => w.hq.liveSubscriptions().length === 1 && w.hq.liveSubscriptions()[0]!.subscriptionId !== hqSub.subscriptionId, 15_000);
    // The headquarters' restart replaced its own subscription and left the annex's stored one alone.
    expect(w.query<{ n: number }>("SELECT count(*) AS n FROM upstream_subscriptions WHERE location = 'annex'")).toEqual([{ n: 1 }]);
    expect(w.annex.liveSubscriptions()).toHaveLength(1);
    expect(await w.swipe('side-desk', '7340862')).toBe('granted');
    expect(await w.swipe('side-desk', '7340863')).toBe('granted');
    expect(await w.swipe('side-desk', '7340861')).toBe('granted');
    const untouched = ['subscriptions', 'person_groups', 'people', 'change_audit', 'webhook_events'];
    const kept = w.hashes(...untouched);
    const annexRows = () => w.query("SELECT * FROM appointments WHERE resource_id = 'R-AX'");
    const keptAppointments = annexRows();
    const put = await w.call('PUT', '/api/v1/bookings/B-1', { resourceId: 'R-AX', startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), organizer: { email: 'ana@example.com' } });
    expect(put.status).toBe(409);
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('location_disconnected');
    const subPut = await w.call('PUT', '/api/v1/subscriptions/PLAN-2', { ...sub, email: 'ana@example.com' });
    expect(subPut.status).toBe(409);
    expect(((await subPut.json()) as { error: { code: string } }).error.code).toBe('location_disconnected');
    const annexSub = w.annex.liveSubscriptions()[0]!;
    const axBody = JSON.stringify({ subscriptionId: annexSub.subscriptionId, type: 'appointment.created', resourceId: 'R-AX', appointmentId: 'A-AX-2', dates: [new Date().toISOString().slice(0, 10)], occurredAt: new Date().toISOString() });
    const axRes = await fetch(annexSub.callUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg-ax-2', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(annexSub.secret, 'msg-ax-2', ts, axBody) },
      body: axBody,
    });
    expect(axRes.status).toBe(404);
    expect(w.hashes(...untouched)).toEqual(kept);
    expect(annexRows()).toEqual(keptAppointments);
    // Taking access away still works at a disconnected location.
    expect((await w.call('DELETE', '/api/v1/bookings/B-AX')).status).toBe(204);
    await until('pushed booking cancelled', async () => (await w.swipe('side-desk', '7340861')) !== 'granted');
    // The headquarters still grants anew.
    w.book(w.hq, 'R-HQ', 'cy@example.com', 'A-HQ-3');
    await until('new hq grant', async () => (await w.swipe('front-desk', '7340863')) === 'granted', 15_000);

    // Disconnected, revoke: at start the annex's bookings, their grants and its plan subscription go; the headquarters' stay.
    await w.stop();
    await w.start(w.configFor({ connection: 'disconnected', onDisconnect: 'revoke' }));
    expect(await w.swipe('side-desk', '7340862')).not.toBe('granted');
    expect(await w.swipe('side-desk', '7340863')).not.toBe('granted');
    expect(await w.swipe('front-desk', '7340861')).toBe('granted');
    expect(w.query("SELECT 1 FROM appointments WHERE resource_id = 'R-AX'")).toEqual([]);
    expect(w.query("SELECT 1 FROM person_groups WHERE source = 'subscription' AND source_id = 'PLAN-1'")).toEqual([]);
    const revoked = w.query<{ actor: string; action: string; target: string }>("SELECT actor, action, target FROM change_audit WHERE actor = 'config' ORDER BY id");
    expect(revoked).toEqual([
      { actor: 'config', action: 'booking.revoke', target: 'A-AX-1' },
      { actor: 'config', action: 'subscription.revoke', target: 'PLAN-1' },
    ]);
    // A second start with the same config finds nothing more to revoke.
    await w.stop();
    const revokedTables = ['subscriptions', 'person_groups', 'change_audit'];
    const afterRevoke = w.hashes(...revokedTables);
    await w.start(w.configFor({ connection: 'disconnected', onDisconnect: 'revoke' }));
    expect(w.query("SELECT 1 FROM change_audit WHERE actor = 'config'")).toHaveLength(2);
    expect(w.hashes(...revokedTables)).toEqual(afterRevoke);
    expect(w.query("SELECT 1 FROM appointments WHERE resource_id = 'R-AX'")).toEqual([]);
  }, 120_000);
});
