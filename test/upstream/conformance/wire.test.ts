import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/db.js';
import { Store } from '../../../src/store/store.js';
import type { SubscriptionRecord } from '../../../src/store/upstream-state.js';
import { UpstreamClient } from '../../../src/upstream/client.js';
import { UpstreamHealth } from '../../../src/upstream/health.js';
import { ReplayGuard } from '../../../src/upstream/replay-guard.js';
import type { CallbackBody } from '../../../src/upstream/schemas.js';
import { createWebhookApp, type CallbackCounters } from '../../../src/upstream/webhook.js';
import { silentLogger } from '../../../src/util/log.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { tempDir } from '../../helpers/tmp.js';

/*
 * The gateway against a minimal hand-written platform (plain node:http, not our simulator, which
 * shares our schemas and signer): what goes on the wire, and which answers a platform written
 * independently from upstream-api.md may legitimately give.
 */

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: Seen, res: ServerResponse) => void;

let server: Server;
let base = '';
let seen: Seen[] = [];
let handler: Handler = (_req, res) => res.writeHead(500).end();
let clock: FakeClock;
let health: UpstreamHealth;

const TOKEN = 'plain-token-123';

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

function client(timeoutMs = 2000): UpstreamClient {
  return new UpstreamClient({ baseUrl: base, token: TOKEN, requestTimeoutMs: timeoutMs, clock, health });
}

beforeEach(async () => {
  seen = [];
  clock = new FakeClock();
  health = new UpstreamHealth(clock, true, () => 0.5);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('requests on the wire (sections 1, 3, 5, 6)', () => {
  it('every call: exact method and path, raw token in authorization, JSON bodies with the spec field names', async () => {
    handler = (req, res) => {
      if (req.method === 'POST' && req.url === '/API/external/booking/v1/subscriptions') return json(res, 201, { subscriptionId: 'S-1', expiresAt: '2026-11-29T10:00:00Z' });
      if (req.method === 'DELETE') return res.writeHead(204).end();
      if (req.url?.startsWith('/API/external/booking/v1/resources/')) {
        return json(res, 200, { resourceId: 'R/1 x', date: '2026-11-22', timeZone: 'Europe/Amsterdam', appointments: [] });
      }
      if (req.url === '/API/external/receptionist/v1/visits/verify') return json(res, 404, { error: 'unknown' });
      return json(res, 404, {});
    };
    const c = client();
    await c.createSubscription('https://gw.example/webhooks/offision', ['R-101', 'R-102'], 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await c.deleteSubscription('S-1');
    await c.dailyList('R/1 x', '2026-11-22');
    expect(await c.verifyVisit('V7K2-99QX', 'reception-gate-1')).toEqual({ kind: 'unknown' });

    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /API/external/booking/v1/subscriptions',
      'DELETE /API/external/booking/v1/subscriptions/S-1',
      'GET /API/external/booking/v1/resources/R%2F1%20x/appointments?date=2026-11-22',
      'POST /API/external/receptionist/v1/visits/verify',
    ]);
    for (const s of seen) expect(s.headers.authorization).toBe(TOKEN);
    const [sub, , , verify] = seen;
    expect(sub!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(sub!.body)).toEqual({
      callUrl: 'https://gw.example/webhooks/offision',
      resourceIds: ['R-101', 'R-102'],
      secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(verify!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(verify!.body)).toEqual({ registrationCode: 'V7K2-99QX', deviceId: 'reception-gate-1' });
  });

  it('a DELETE answered 404 counts as gone; a create answered 200 instead of 201 is refused', async () => {
    handler = (req, res) => (req.method === 'DELETE' ? json(res, 404, { error: 'gone' }) : json(res, 200, { subscriptionId: 'S-1', expiresAt: '2026-11-29T10:00:00Z' }));
    await expect(client().deleteSubscription('S-9')).resolves.toBeUndefined();
    await expect(client().createSubscription('https://gw.example/x', ['R-1'], 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).rejects.toMatchObject({ kind: 'http', status: 200 });
  });

  it('429 honours retry-after in seconds; 401 and 5xx are classified', async () => {
    let status = 429;
    handler = (_req, res) => json(res, status, { error: 'x' }, status === 429 ? { 'retry-after': '7' } : {});
    await expect(client().dailyList('R-1', '2026-11-22')).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000 });
    expect(health.blockedUntil).toBe(clock.now() + 7000);
    clock.advance(7000);
    status = 401;
    await expect(client().dailyList('R-1', '2026-11-22')).rejects.toMatchObject({ kind: 'unauthorized' });
    clock.advance(3_600_000);
    status = 503;
    await expect(client().dailyList('R-1', '2026-11-22')).rejects.toMatchObject({ kind: 'server' });
  });
});

describe('answers an independent platform may legitimately give', () => {
  it('daily list: extra fields everywhere, names missing, Z / offsets / fractional seconds', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        resourceId: 'R-101',
        date: '2026-11-22',
        timeZone: 'Europe/Amsterdam',
        nextPage: null,
        appointments: [
          {
            appointmentId: 'A'.repeat(128),
            status: 'confirmed',
            start: '2026-11-22T11:00:00Z',
            end: '2026-11-22T16:00:00.123456+01:00',
            organizer: { email: 'Ana@Example.com', id: 7 },
            attendees: [{ email: 'li@example.com', rsvp: 'yes' }],
            updatedAt: '2026-11-22T08:14:03.5-05:00',
            subject: 'private',
          },
        ],
      });
    const list = await client().dailyList('R-101', '2026-11-22');
    expect(list.appointments[0]).toMatchObject({ appointmentId: 'A'.repeat(128), organizer: { email: 'Ana@Example.com' } });
    expect(Date.parse(list.appointments[0]!.end)).toBe(Date.parse('2026-11-22T15:00:00.123Z'));
  });

  it('subscription: expiresAt with an offset and fractional seconds', async () => {
    handler = (_req, res) => json(res, 201, { subscriptionId: 'S-1', expiresAt: '2026-11-29T11:00:00.250+01:00', resourceIds: ['R-1'] });
    const r = await client().createSubscription('https://gw.example/x', ['R-1'], 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(r).toEqual({ subscriptionId: 'S-1', expiresAt: Date.parse('2026-11-29T10:00:00.250Z') });
  });

  it('visit verify gives up after 2 s when the platform does not answer', async () => {
    handler = () => undefined; // never answers
    let settled = false;
    const pending = client(10_000)
      .verifyVisit('V7K2-99QX', 'gate-1')
      .finally(() => (settled = true));
    clock.advance(1999);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    clock.advance(1); // the visit call's own 2 s deadline, not the client's 10 s default
    expect(await pending).toMatchObject({ kind: 'unreachable', error: expect.stringMatching(/timed out/) });
  });

  // The spec shows `attendees` but does not promise it: a platform that omits it for a booking
  // without attendees must not make the whole list (and any cancellation in it) unusable.
  it('daily list with `attendees` omitted for a booking with none', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        resourceId: 'R-101',
        date: '2026-11-22',
        timeZone: 'Europe/Amsterdam',
        appointments: [
          {
            appointmentId: 'A-1',
            status: 'cancelled',
            start: '2026-11-22T11:00:00Z',
            end: '2026-11-22T12:00:00Z',
            organizer: { email: 'ana@example.com' },
            updatedAt: '2026-11-22T08:14:03Z',
          },
        ],
      });
    const list = await client().dailyList('R-101', '2026-11-22');
    expect(list.appointments[0]!.attendees).toEqual([]);
  });

  // The visitor call bypasses the backoff gate (a visitor is waiting); its answer must not
  // reopen the booking calls before the platform's 429 `retry-after` has passed.
  it('a visitor lookup during a 429 retry-after does not reopen the gate early', async () => {
    handler = (req, res) =>
      req.url?.includes('visits') ? json(res, 404, { error: 'unknown' }) : json(res, 429, { error: 'slow down' }, { 'retry-after': '120' });
    await expect(client().dailyList('R-1', '2026-11-22')).rejects.toMatchObject({ kind: 'rate_limited' });
    await client().verifyVisit('NOPE', 'gate-1');
    expect(health.blocked()).toBe(true);
  });

  // RFC 3339 §5.6: "T" and "Z" may be lower case; seconds may be 60 (a leap second). Emails with
  // surrounding whitespace, `attendees: null`, no `updatedAt`, a status the spec does not list:
  // none of it may make the list (and the cancellations in it) unusable.
  it('daily list: lower-case t/z, a leap second, attendees null, no updatedAt, padded emails, an unknown status', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        resourceId: 'R-101',
        date: '2016-12-31',
        timeZone: 'Europe/Amsterdam',
        appointments: [
          {
            appointmentId: 'A-1',
            status: 'confirmed',
            start: '2016-12-31t22:00:00z',
            end: '2016-12-31T23:59:60Z',
            organizer: { email: ' Ana@X.com ', name: 'Ana' },
            attendees: null,
          },
          {
            appointmentId: 'A-2',
            status: 'confirmed',
            start: '2016-12-31t12:00:00+01:00',
            end: '2017-01-01t00:59:60+01:00',
            organizer: { email: 'not an email' },
            attendees: [{ email: '\tli@example.com ' }],
            updatedAt: '2016-12-30t08:14:03.5z',
          },
          {
            appointmentId: 'A-3',
            status: 'tentative',
            start: '2016-12-31T09:00:00Z',
            end: '2016-12-31T10:00:00Z',
            organizer: { email: 'ana@x.com' },
          },
        ],
      });
    const list = await client().dailyList('R-101', '2016-12-31');
    const [a1, a2, a3] = list.appointments;
    expect(a1).toMatchObject({ status: 'confirmed', organizer: { email: 'Ana@X.com' }, attendees: [], updatedAt: null });
    expect(Date.parse(a1!.start)).toBe(Date.parse('2016-12-31T22:00:00Z'));
    expect(Date.parse(a1!.end)).toBe(Date.parse('2016-12-31T23:59:59.999Z'));
    expect(a2).toMatchObject({ organizer: null, attendees: [{ email: 'li@example.com' }] });
    expect(Date.parse(a2!.start)).toBe(Date.parse('2016-12-31T11:00:00Z'));
    expect(Date.parse(a2!.end)).toBe(Date.parse('2016-12-31T23:59:59.999Z'));
    expect(Date.parse(a2!.updatedAt!)).toBe(Date.parse('2016-12-30T08:14:03.500Z'));
    // Fail closed: a status outside `confirmed`/`cancelled` grants nothing.
    expect(a3!.status).toBe('cancelled');
  });

  it('daily list: a time without an offset is still refused, the whole list with it', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        resourceId: 'R-101',
        date: '2026-11-22',
        timeZone: 'Europe/Amsterdam',
        appointments: [{ appointmentId: 'A-1', status: 'confirmed', start: '2026-11-22t11:00:00', end: '2026-11-22T12:00:00Z', organizer: null }],
      });
    await expect(client().dailyList('R-101', '2026-11-22')).rejects.toMatchObject({ kind: 'invalid' });
  });

  it('resources: a type outside the five, no name or location: the ids are still listed', async () => {
    handler = (_req, res) =>
      json(res, 200, { resources: [{ resourceId: 'R-101', name: 'Room Orion', type: 'room', locationId: 'HQ' }, { resourceId: 'R-900', type: 'locker' }] });
    expect((await client().resources()).map((r) => [r.resourceId, r.type])).toEqual([
      ['R-101', 'room'],
      ['R-900', undefined],
    ]);
  });

  it('visit: lower-case times, padded emails, names missing', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        visitId: 'VIS-311',
        visitor: { email: ' Sam@Partner.example ' },
        host: { email: 'ANA@example.com' },
        status: 'checked_in',
        validFrom: '2026-11-22t09:00:00+01:00',
        validTo: '2026-11-22t17:00:00z',
      });
    expect(await client().verifyVisit('V7K2-99QX', 'gate-1')).toEqual({
      kind: 'found',
      visit: {
        visitId: 'VIS-311',
        status: 'checked_in',
        validFrom: Date.parse('2026-11-22T08:00:00Z'),
        validTo: Date.parse('2026-11-22T17:00:00Z'),
        visitorEmail: 'sam@partner.example',
        hostEmail: 'ana@example.com',
      },
    });
  });
});

describe('callback verification against the Standard Webhooks reference vector', () => {
  const tmp = tempDir('lintel-conf-');
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const TS = 1614265330;
  const BODY = '{"test": 2432232314}';
  const SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

  function app(c: FakeClock, onEvent: (e: CallbackBody) => void = () => undefined) {
    const store = new Store(openDatabase(join(tmp.dir, `db-${Math.random()}.sqlite`)));
    const sub: SubscriptionRecord = { subscriptionId: 'S-1', secret: SECRET, resourceIds: ['R-1'], createdAt: 0, expiresAt: Infinity, state: 'active' };
    const counters: CallbackCounters = { accepted: 0, duplicates: 0, rejected: {} };
    return createWebhookApp({
      subscriptions: { live: () => [sub], createInFlight: () => false, noteOrphan: () => undefined },
      replay: new ReplayGuard(store, c),
      clock: c,
      logger: silentLogger,
      maxBytes: 16_384,
      isMapped: () => true,
      onEvent,
      counters,
    });
  }

  function post(a: ReturnType<typeof app>, sig: string, ts = String(TS)): Promise<Response> {
    return Promise.resolve(
      a.request('/', { method: 'POST', body: BODY, headers: { 'webhook-id': ID, 'webhook-timestamp': ts, 'webhook-signature': sig } }),
    );
  }

  it('the vector verifies (400: signed, but not the callback contract); a flipped bit or stale timestamp is 401', async () => {
    const c = new FakeClock(TS * 1000 + 299_000);
    const a = app(c);
    expect((await post(a, SIG)).status).toBe(400);
    expect((await post(a, `v1a,xyz ${SIG}  v2,abc`)).status).toBe(400);
    expect((await post(a, SIG.replace('g0h', 'g1h'))).status).toBe(401);
    c.advance(2000);
    expect((await post(a, SIG)).status).toBe(401);
  });

  /** Signed the way section 4 says, with node:crypto (not our signer). */
  function signed(a: ReturnType<typeof app>, id: string, ts: number, body: string): Promise<Response> {
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const sig = `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
    return Promise.resolve(a.request('/', { method: 'POST', body, headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sig } }));
  }

  // The gateway uses subscriptionId, resourceId and dates; a malformed occurredAt or appointmentId
  // (unused) must not turn the callback into a 400 the platform retries for 24 h.
  it('a signed callback with a malformed occurredAt and appointmentId is accepted; the used fields stay strict', async () => {
    const c = new FakeClock(TS * 1000);
    const events: CallbackBody[] = [];
    const a = app(c, (e) => events.push(e));
    const body = (over: Record<string, unknown>) =>
      JSON.stringify({ subscriptionId: 'S-1', type: 'appointment.updated', resourceId: 'R-1', appointmentId: 'A-1', dates: ['2026-11-22', '2026-11-23'], occurredAt: '2026-11-22T08:14:03+01:00', ...over });
    expect((await signed(a, 'msg_1', TS, body({ occurredAt: '22/11/2026 08:14', appointmentId: 'A'.repeat(300) }))).status).toBe(200);
    expect((await signed(a, 'msg_2', TS, body({ occurredAt: '2026-11-22t08:14:03z', appointmentId: undefined, type: undefined }))).status).toBe(200);
    expect((await signed(a, 'msg_3', TS, body({ resourceId: 'R'.repeat(129) }))).status).toBe(400);
    expect((await signed(a, 'msg_4', TS, body({ dates: ['2026-11-31'] }))).status).toBe(400);
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => [e.subscriptionId, e.resourceId, e.dates])).toEqual([
      ['S-1', 'R-1', ['2026-11-22', '2026-11-23']],
      ['S-1', 'R-1', ['2026-11-22', '2026-11-23']],
    ]);
  });
});
