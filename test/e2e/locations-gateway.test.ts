import { afterEach, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/upstream/signature.js';
import { until } from '../helpers/lintel-process.js';
import { locationsWorld } from '../helpers/locations-world.js';

/*
 * Two locations on one gateway (issue 12), each against its own instance of the platform
 * simulator, over real loopback HTTP, a real broker and a real SQLite file kept across restarts
 * (test/helpers/locations-world.ts). The upstream threads run the build: `npm run build` first.
 */

describe('locations, end to end', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('each location subscribes for its own resources, grants on its own doors, and keeps or revokes when disconnected', async () => {
    const w = await locationsWorld(cleanups);
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
    const annexSub = w.annex.liveSubscriptions()[0]!;
    await w.stop();
    await w.start(w.configFor({ connection: 'disconnected' }));
    await until('hq resubscribed', () => w.hq.liveSubscriptions().length === 1 && w.hq.liveSubscriptions()[0]!.subscriptionId !== hqSub.subscriptionId, 15_000);
    // The annex's subscription, left by its link when it last ran, is deleted at its own platform
    // behind the start; the headquarters' restart deleted only its own.
    await until('annex subscription deleted', () => w.query("SELECT 1 FROM upstream_subscriptions WHERE location = 'annex'").length === 0, 15_000);
    const deletes = (sim: typeof w.hq) => sim.requests.filter((r) => r.method === 'DELETE').map((r) => [r.path.split('/').pop(), r.status]);
    expect(deletes(w.annex)).toEqual([[annexSub.subscriptionId, 204]]);
    expect(deletes(w.hq)).toEqual([[hqSub.subscriptionId, 204]]);
    expect(w.annex.liveSubscriptions()).toEqual([]);
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
