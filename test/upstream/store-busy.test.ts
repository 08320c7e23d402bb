import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { neverWaitForLocks } from '../../src/store/db.js';
import { signWebhook } from '../../src/upstream/signature.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { at, Harness } from './harness.js';

/*
 * Another process holds the SQLite write lock and the gateway's connection never waits for it
 * (as in production). A callback that cannot record its webhook-id asks for a retry (503 +
 * Retry-After, the platform retries after 5 s), and a daily list that cannot be applied yet is
 * retried until the lock frees instead of being counted as failed.
 */

let h: Harness;
let other: OtherProcess;

async function post(id: string): Promise<Response> {
  const sub = h.sim.liveSubscriptions()[0]!;
  const body = JSON.stringify({
    subscriptionId: sub.subscriptionId,
    type: 'appointment.created',
    resourceId: 'R-101',
    appointmentId: 'A-1',
    dates: ['2026-11-22'],
    occurredAt: '2026-11-22T11:00:00+01:00',
  });
  const ts = Math.floor(h.clock.now() / 1000);
  const res = await fetch(h.callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(sub.secret, id, ts, body) },
    body,
  });
  await res.arrayBuffer();
  return res;
}

beforeEach(async () => {
  h = await new Harness().init();
  h.giveCard('ana@example.com', '1001');
  h.sim.delivery.dropNext = 1;
  h.sim.createAppointment({ appointmentId: 'A-1', resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: { email: 'ana@example.com' } });
  neverWaitForLocks(h.store.db);
  other = new OtherProcess(h.dbFile);
});
afterEach(async () => {
  await other.close();
  await h.close();
});

describe('SQLITE_BUSY on the platform paths', () => {
  it('a callback whose webhook-id cannot be recorded answers 503 with Retry-After and changes nothing', async () => {
    await h.settle();
    const fetchesBefore = h.sim.requests.length;
    await other.lock();
    const res = await post('msg_busy_1');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    await h.settle();
    expect(h.sim.requests.length).toBe(fetchesBefore);
    await other.release();

    // The platform's retry, same webhook-id, now goes through.
    expect((await post('msg_busy_1')).status).toBe(200);
    await h.settle();
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
  });

  it('a daily list that meets the lock is applied once the lock frees, not counted as failed', async () => {
    await other.lock();
    const sweep = h.sync.reconcileNow();
    await new Promise((r) => setTimeout(r, 400)); // let fetches return and meet the lock
    expect(h.grantCount()).toBe(0); // reads still work under the lock (WAL)
    await other.release();
    const report = await sweep;
    expect(report.failed).toBe(0);
    expect(h.grantCount()).toBeGreaterThan(0);
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
  });
});
