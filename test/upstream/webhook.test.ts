import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../src/upstream/replay-guard.js';
import { signWebhook } from '../../src/upstream/signature.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { at, Harness } from './harness.js';

/*
 * The callback endpoint, hit over loopback with hand-made requests. Every rejected callback must
 * leave the database file byte-for-byte unchanged and cause no fetch.
 */

let h: Harness;
let seq = 0;

function liveSub(): { id: string; secret: string } {
  const s = h.sim.liveSubscriptions()[0]!;
  return { id: s.subscriptionId, secret: s.secret };
}

function eventBody(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    subscriptionId: liveSub().id,
    type: 'appointment.created',
    resourceId: 'R-101',
    appointmentId: 'A-1',
    dates: ['2026-11-22'],
    occurredAt: '2026-11-22T11:00:00+01:00',
    ...over,
  });
}

interface PostOptions {
  body?: string;
  id?: string;
  secret?: string;
  timestamp?: number;
  signature?: string;
  omit?: ('webhook-id' | 'webhook-timestamp' | 'webhook-signature')[];
}

async function post(o: PostOptions = {}): Promise<Response> {
  const body = o.body ?? eventBody();
  const id = o.id ?? `msg_test_${++seq}`;
  const ts = o.timestamp ?? Math.floor(h.clock.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': o.signature ?? signWebhook(o.secret ?? liveSub().secret, id, ts, body),
  };
  for (const k of o.omit ?? []) delete headers[k];
  const res = await fetch(h.callbackUrl, { method: 'POST', headers, body });
  await res.arrayBuffer();
  return res;
}

/** Asserts the request is answered `status` and changes nothing: no byte in SQLite, no fetch. */
async function expectNoEffect(status: number, send: () => Promise<Response>): Promise<void> {
  await h.settle();
  const before = h.dbHash();
  const fetchesBefore = h.sim.requests.length;
  const res = await send();
  expect(res.status).toBe(status);
  await h.settle();
  expect(h.sim.requests.length).toBe(fetchesBefore);
  expect(h.dbHash()).toBe(before);
}

beforeEach(async () => {
  h = await new Harness().init();
  h.giveCard('ana@example.com', '1001');
  // The platform knows the booking; only our hand-made callback will tell the gateway.
  h.sim.delivery.dropNext = 1;
  h.sim.createAppointment({ appointmentId: 'A-1', resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: { email: 'ana@example.com' } });
});
afterEach(async () => h.close());

describe('POST /webhooks/offision', () => {
  it('accepts a correctly signed event, answers before fetching, then applies the daily list', async () => {
    const res = await post();
    expect(res.status).toBe(200);
    await h.settle();
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
    expect(h.sync.status().callbacks.accepted).toBe(1);
  });

  it('accepts when any of several space-separated signatures matches', async () => {
    const body = eventBody();
    const ts = Math.floor(h.clock.now() / 1000);
    const good = signWebhook(liveSub().secret, 'msg_multi', ts, body);
    const wrong = signWebhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, 'msg_multi', ts, body);
    const res = await post({ body, id: 'msg_multi', timestamp: ts, signature: `v2,abc ${wrong} v1,!!notbase64 ${good}` });
    expect(res.status).toBe(200);
  });

  it('401 for missing headers, a wrong secret, a tampered body, or a timestamp 6 minutes off either way', async () => {
    for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      await expectNoEffect(401, () => post({ omit: [header] }));
    }
    await expectNoEffect(401, () => post({ secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }));
    const ts = Math.floor(h.clock.now() / 1000);
    await expectNoEffect(401, () => post({ body: eventBody({ appointmentId: 'A-2' }), signature: signWebhook(liveSub().secret, 'x', ts, eventBody()) }));
    await expectNoEffect(401, () => post({ timestamp: ts - 6 * 60 }));
    await expectNoEffect(401, () => post({ timestamp: ts + 6 * 60 }));
    await expectNoEffect(401, () => post({ signature: 'v1,' }));
    // Inside the tolerance both ways is fine.
    expect((await post({ timestamp: ts - 4 * 60 })).status).toBe(200);
    expect((await post({ timestamp: ts + 4 * 60 })).status).toBe(200);
    expect(h.sync.status().callbacks.rejected['401']).toBe(8);
  });

  it('413 for a body over maxCallbackBytes, declared or streamed without a length', async () => {
    const big = eventBody({ occurredAt: '2026-11-22T11:00:00+01:00', pad: 'x'.repeat(20_000) });
    await expectNoEffect(413, () => post({ body: big }));
    await expectNoEffect(413, async () => {
      const chunk = new TextEncoder().encode('x'.repeat(4096));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          // An endless body: the receiver must stop reading, not buffer it.
          if (sent++ < 10_000) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const res = await fetch(h.callbackUrl, {
        method: 'POST',
        headers: { 'webhook-id': 'msg_stream', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      await res.arrayBuffer();
      return res;
    });
  });

  it('400 for a signed body that is not JSON or not the callback contract', async () => {
    await expectNoEffect(400, () => post({ body: '{not json' }));
    await expectNoEffect(400, () => post({ body: eventBody({ dates: ['2026-02-30'] }) }));
    // resourceId is used (which lists to fetch), so it is held to the id contract; appointmentId is
    // not used and no longer a reason for a 400 (test/upstream/schemas.test.ts).
    await expectNoEffect(400, () => post({ body: eventBody({ resourceId: 'R'.repeat(129) }) }));
  });

  it('an event type this version does not know is still a reason to refresh (200, not a 24 h retry loop)', async () => {
    expect((await post({ body: eventBody({ type: 'appointment.deleted' }) })).status).toBe(200);
  });

  it('202 (and nothing done) for an unknown subscription or an unmapped resource', async () => {
    await expectNoEffect(202, () => post({ body: eventBody({ subscriptionId: 'S-unknown' }) }));
    await expectNoEffect(202, () => post({ body: eventBody({ resourceId: 'R-999' }) }));
    expect(h.sync.status().callbacks.rejected['202']).toBe(2);
  });

  it('a replayed webhook-id is answered 200 and does nothing, also after a restart', async () => {
    expect((await post({ id: 'msg_once' })).status).toBe(200);
    await h.settle();
    await expectNoEffect(200, () => post({ id: 'msg_once' }));
    // A fresh UpstreamSync on the same database still knows the id.
    await h.sync.stop();
    h.sync = h.makeSync();
    h.mountWebhook();
    await expectNoEffect(200, () => post({ id: 'msg_once' }));
    expect(h.sync.status().callbacks.duplicates).toBe(1);
  });

  it('remembers webhook ids for 48 h, then prunes them', () => {
    const clock = new FakeClock();
    const guard = new ReplayGuard(h.store, clock);
    guard.remember('msg_old');
    clock.advance(47 * 3_600_000);
    expect(guard.prune()).toBe(0);
    expect(guard.seen('msg_old')).toBe(true);
    clock.advance(2 * 3_600_000);
    guard.prune();
    expect(guard.seen('msg_old')).toBe(false);
  });
});
