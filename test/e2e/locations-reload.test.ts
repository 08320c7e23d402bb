import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { liveUpstreamThreads } from '../../src/upstream/upstream-thread-host.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../helpers/lintel-process.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { locationsWorld, type AnnexState } from '../helpers/locations-world.js';

/*
 * Connecting and disconnecting a location by a reload (issue 12): the gateway in-process with
 * its real parts, reloaded through reloadFile (what SIGHUP calls) from a site file on disk, each
 * location against its own platform simulator over loopback HTTP (test/helpers/locations-world.ts).
 * The upstream threads run the build: `npm run build` first.
 */

const DELETE_PATH = '/API/external/booking/v1/subscriptions/';
const PEOPLE = [
  ['ana@example.com', '7340861'],
  ['bo@example.com', '7340862'],
  ['cy@example.com', '7340863'],
] as const;

describe('locations, connected and disconnected by a reload', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function connectedWorld(lines?: string[]) {
    const w = await locationsWorld(cleanups);
    const logger = lines ? createLogger('info', { write: (line: string) => void lines.push(line) }) : undefined;
    const g = await w.start(w.configFor({ connection: 'connected' }), logger);
    for (const [email, card] of PEOPLE) {
      expect((await w.call('PUT', `/api/v1/people/${email}`, { name: email })).status).toBe(201);
      expect((await w.call('PUT', `/api/v1/people/${email}/cards/${card}`, {})).status).toBe(201);
    }
    await w.subscribed(w.hq);
    await w.subscribed(w.annex);
    w.book(w.annex, 'R-AX', 'bo@example.com', 'A-AX-1');
    await until('annex grant in the index', async () => (await w.swipe('side-desk', '7340862')) === 'granted', 15_000);
    const reload = async (state: AnnexState) => {
      w.writeSite(state);
      await g.reloadFile(w.siteFile);
      // reloadFile never throws: a rejected reload would keep the running state.
      expect(g.config.locations?.[1]).toMatchObject({ id: 'annex', connection: state.connection, onDisconnect: state.onDisconnect ?? 'keep' });
    };
    return { ...w, g, reload };
  }

  const deletes = (w: { annex: { requests: Array<{ method: string; path: string; status: number }> } }) => w.annex.requests.filter((r) => r.method === 'DELETE');
  const annexStatus = async (g: Gateway) => g.status().locations?.find((l) => l.id === 'annex');
  const reloads = async (g: Gateway, result: string) => Number(/lintel_reloads_total\{result="(\w+)"\} (\d+)/g.exec((await g.metrics.text()).split('\n').find((l) => l.startsWith(`lintel_reloads_total{result="${result}"}`)) ?? '')?.[2] ?? 0);

  it('keep: the link stops and its platform subscription is deleted, 404 and 409 from then on, granted access stays; connecting again subscribes and grants', async () => {
    const w = await connectedWorld();
    const hqSub = w.hq.liveSubscriptions()[0]!;
    const annexSub = w.annex.liveSubscriptions()[0]!;
    expect(liveUpstreamThreads()).toBe(2);

    await w.reload({ connection: 'disconnected' });
    expect(liveUpstreamThreads()).toBe(1);
    // Deleted at the annex's platform, and its record with it; the headquarters' subscription is untouched.
    expect(deletes(w)).toEqual([{ method: 'DELETE', path: DELETE_PATH + annexSub.subscriptionId, status: 204 }]);
    expect(w.annex.liveSubscriptions()).toEqual([]);
    expect(w.query("SELECT 1 FROM upstream_subscriptions WHERE location = 'annex'")).toEqual([]);
    expect(w.hq.liveSubscriptions().map((s) => s.subscriptionId)).toEqual([hqSub.subscriptionId]);
    expect(w.hq.requests.filter((r) => r.method === 'DELETE')).toEqual([]);

    const tables = ['appointments', 'grants', 'subscriptions', 'person_groups', 'webhook_events', 'change_audit'];
    const before = w.hashes(...tables);
    expect((await w.callback(annexSub, 'R-AX', 'msg-after-disconnect')).status).toBe(404);
    const pushed = { resourceId: 'R-AX', startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), organizer: { email: 'ana@example.com' } };
    const put = await w.call('PUT', '/api/v1/bookings/B-1', pushed);
    expect(put.status).toBe(409);
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('location_disconnected');
    const plan = { email: 'cy@example.com', groups: ['annex-members'], startsAt: new Date(Date.now() - 60_000).toISOString(), location: 'annex' };
    const subPut = await w.call('PUT', '/api/v1/subscriptions/PLAN-1', plan);
    expect(subPut.status).toBe(409);
    expect(((await subPut.json()) as { error: { code: string } }).error.code).toBe('location_disconnected');
    expect(w.hashes(...tables)).toEqual(before);
    // keep: what was granted before the reload still opens the door.
    expect(await w.swipe('side-desk', '7340862')).toBe('granted');
    expect(await annexStatus(w.g)).toMatchObject({ connection: 'disconnected', onDisconnect: 'keep', upstream: null });
    expect(await w.g.metrics.text()).not.toContain('lintel_upstream_state{location="annex"');

    // Connected again: a fresh subscription, callbacks and pushed bookings grant again.
    await w.reload({ connection: 'connected' });
    expect(liveUpstreamThreads()).toBe(2);
    await w.subscribed(w.annex);
    expect(w.annex.liveSubscriptions()[0]!.subscriptionId).not.toBe(annexSub.subscriptionId);
    w.book(w.annex, 'R-AX', 'ana@example.com', 'A-AX-2');
    await until('a new annex grant', async () => (await w.swipe('side-desk', '7340861')) === 'granted', 15_000);
    expect((await w.call('PUT', '/api/v1/subscriptions/PLAN-1', plan)).status).toBe(201);
    await until('annex status ok', async () => (await annexStatus(w.g))?.upstream?.state === 'ok');

    // A location's token rotated by a reload (the spec: "a new token is picked up by a config reload, no restart").
    w.annex.revokeToken('tok-ax');
    w.annex.addToken('tok-ax-2');
    await w.reload({ connection: 'connected', token: 'tok-ax-2' });
    expect(w.g.config.locations?.[1]?.upstream?.token).toBe('tok-ax-2');
    w.book(w.annex, 'R-AX', 'cy@example.com', 'A-AX-3');
    await until('a booking fetched with the new token', () => w.query("SELECT 1 FROM appointments WHERE appointment_id = 'A-AX-3'").length === 1, 15_000);
    expect(await reloads(w.g, 'applied')).toBe(3);
  }, 120_000);

  it('revoke: the revoke runs at the reload; a refused or hanging DELETE does not fail the reload; a reload storm leaks no thread', async () => {
    const lines: string[] = [];
    const w = await connectedWorld(lines);
    w.book(w.hq, 'R-HQ', 'ana@example.com', 'A-HQ-1');
    const plan = { email: 'cy@example.com', groups: ['annex-members'], startsAt: new Date(Date.now() - 60_000).toISOString(), location: 'annex' };
    expect((await w.call('PUT', '/api/v1/subscriptions/PLAN-1', plan)).status).toBe(201);
    await until('plan subscription applied', async () => (await w.swipe('side-desk', '7340863')) === 'granted');
    await until('hq grant', async () => (await w.swipe('front-desk', '7340861')) === 'granted', 15_000);
    const annexSub = w.annex.liveSubscriptions()[0]!;

    // The platform refuses the DELETE: the reload is applied all the same, and says so in the log.
    w.annex.injectFault({ status: 500, pathIncludes: DELETE_PATH });
    await w.reload({ connection: 'disconnected', onDisconnect: 'revoke' });
    expect(liveUpstreamThreads()).toBe(1);
    expect(await w.swipe('side-desk', '7340862')).not.toBe('granted');
    expect(await w.swipe('side-desk', '7340863')).not.toBe('granted');
    expect(await w.swipe('front-desk', '7340861')).toBe('granted');
    expect(w.query("SELECT 1 FROM appointments WHERE resource_id = 'R-AX'")).toEqual([]);
    const audited = () => w.query("SELECT actor, action, target FROM change_audit WHERE actor = 'config' ORDER BY id");
    expect(audited()).toEqual([
      { actor: 'config', action: 'booking.revoke', target: 'A-AX-1' },
      { actor: 'config', action: 'subscription.revoke', target: 'PLAN-1' },
    ]);
    expect(deletes(w).map((r) => r.status)).toEqual([500]);
    // Not deleted: it stays live at the platform (its callbacks 404) and its record stays for the next connect to delete.
    expect(w.annex.liveSubscriptions().map((s) => s.subscriptionId)).toEqual([annexSub.subscriptionId]);
    expect(w.query("SELECT subscription_id FROM upstream_subscriptions WHERE location = 'annex'")).toEqual([{ subscription_id: annexSub.subscriptionId }]);
    expect(lines.some((l) => l.includes('some platform subscriptions could not be deleted') && l.includes(annexSub.subscriptionId))).toBe(true);
    expect(lines.filter((l) => l.includes('onDisconnect: revoke'))).toHaveLength(1);
    expect(await reloads(w.g, 'applied')).toBe(1);

    // Connected again: the new link subscribes and then deletes the one left behind.
    await w.reload({ connection: 'connected' });
    await until('the left-behind subscription deleted', () => w.annex.liveSubscriptions().length === 1 && w.annex.liveSubscriptions()[0]!.subscriptionId !== annexSub.subscriptionId, 15_000);

    // A platform that does not answer: the reload waits at most the bounded time (the link's request timeout), then goes on.
    const held = w.annex.liveSubscriptions()[0]!;
    w.annex.hold();
    await w.reload({ connection: 'disconnected', onDisconnect: 'revoke' });
    expect(liveUpstreamThreads()).toBe(1);
    expect(w.annex.liveSubscriptions().map((s) => s.subscriptionId)).toEqual([held.subscriptionId]);
    expect(lines.some((l) => l.includes('some platform subscriptions could not be deleted') && l.includes(held.subscriptionId))).toBe(true);
    w.annex.release();

    // A storm: every reload applied in order, then a burst that collapses; the threads are exactly the connected links.
    for (let i = 0; i < 6; i++) await w.reload(i % 2 === 0 ? { connection: 'connected' } : { connection: 'disconnected', onDisconnect: 'revoke' });
    expect(liveUpstreamThreads()).toBe(1);
    const burst: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      w.writeSite(i % 2 === 0 ? { connection: 'disconnected', onDisconnect: 'revoke' } : { connection: 'connected' });
      burst.push(w.g.reloadFile(w.siteFile));
    }
    await Promise.all(burst);
    expect(w.g.config.locations?.[1]?.connection).toBe('connected');
    expect(liveUpstreamThreads()).toBe(2);
    await until('one annex subscription', () => w.annex.liveSubscriptions().length === 1, 15_000);
    await w.reload({ connection: 'disconnected', onDisconnect: 'revoke' });
    expect(liveUpstreamThreads()).toBe(1);
    expect(w.annex.liveSubscriptions()).toEqual([]);
    // The plan subscription was revoked once (ended, it stays ended); the platform's booking is
    // fetched back by each connect's sweep and revoked again by the next disconnect.
    const rows = audited() as Array<{ action: string; target: string }>;
    expect(rows.filter((r) => r.action === 'subscription.revoke')).toEqual([{ actor: 'config', action: 'subscription.revoke', target: 'PLAN-1' }]);
    expect(new Set(rows.filter((r) => r.action !== 'subscription.revoke').map((r) => `${r.action} ${r.target}`))).toEqual(new Set(['booking.revoke A-AX-1']));
    expect(w.query("SELECT 1 FROM appointments WHERE resource_id = 'R-AX'")).toEqual([]);
    expect(await reloads(w.g, 'rejected')).toBe(0);
    await w.stop();
    expect(liveUpstreamThreads()).toBe(0);
  }, 180_000);

  it('a reload refused after the link stopped (the database locked by another program) restarts the link and changes nothing', async () => {
    const w = await connectedWorld();
    const annexSub = w.annex.liveSubscriptions()[0]!;
    const tables = ['appointments', 'grants', 'subscriptions', 'person_groups', 'change_audit'];
    const before = w.hashes(...tables);
    const other = new OtherProcess(w.dbFile);
    cleanups.push(() => other.close());
    await other.lock();
    w.writeSite({ connection: 'disconnected', onDisconnect: 'revoke' });
    await w.g.reloadFile(w.siteFile);
    await other.release();
    expect(await reloads(w.g, 'rejected')).toBe(1);
    expect(w.g.config.locations?.[1]).toMatchObject({ connection: 'connected', onDisconnect: 'keep' });
    expect(w.hashes(...tables)).toEqual(before);
    // The link runs again (a new thread: it subscribes afresh and deletes the one it replaced), and grants.
    expect(liveUpstreamThreads()).toBe(2);
    await until('annex resubscribed', () => w.annex.liveSubscriptions().length === 1 && w.annex.liveSubscriptions()[0]!.subscriptionId !== annexSub.subscriptionId, 15_000);
    expect(await w.swipe('side-desk', '7340862')).toBe('granted');
    w.book(w.annex, 'R-AX', 'cy@example.com', 'A-AX-3');
    await until('a new annex grant', async () => (await w.swipe('side-desk', '7340863')) === 'granted', 15_000);
    expect(await annexStatus(w.g)).toMatchObject({ connection: 'connected' });
  }, 120_000);
});
