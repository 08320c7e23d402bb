import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideCard } from '../../../src/access/decide.js';
import { recentChanges } from '../../../src/store/change-audit.js';
import { upsertAppointment } from '../../../src/store/appointments.js';
import { syncDoorsAndResources } from '../../../src/store/doors.js';
import { applyDailyList, applyResourceGone, policyOfConfig, rederiveFromConfig } from '../../../src/upstream/booking-apply.js';
import { dailyListSchema } from '../../../src/upstream/schemas.js';
import { tableHashes, v1Site, type V1Site } from '../../helpers/v1-api.js';

/*
 * Pushed bookings through /api/v1 with app.request(): organizer and attendees get the
 * resource's doors from start − grace to end + grace (room-1 → front, grace 30/30), an identical
 * retry writes nothing, a PUT moves the window, DELETE revokes at once, a changed mapping
 * reaches ongoing and future pushed bookings, and the platform's daily lists never drop one.
 */

type Grant = { email: string; door: string; from: string; to: string };
type ErrorBody = { error: { code: string; field?: string } };

const at = (iso: string) => Date.parse(iso);

describe('/api/v1 bookings', () => {
  let s: V1Site;
  beforeEach(() => {
    s = v1Site(); // now: 2026-12-01T08:00:00Z
  });
  afterEach(() => s.close());

  const grants = (): Grant[] =>
    (
      s.store.db
        .prepare("SELECT p.email, g.door_id AS door, g.valid_from AS f, g.valid_to AS t FROM grants g JOIN people p ON p.id = g.person_id WHERE g.source = 'booking' ORDER BY p.email, g.door_id, g.valid_from")
        .all() as { email: string; door: string; f: number; t: number }[]
    ).map((r) => ({ email: r.email, door: r.door, from: new Date(r.f).toISOString(), to: new Date(r.t).toISOString() }));
  const body = {
    resourceId: 'room-1',
    startsAt: '2026-12-01T11:00:00+01:00',
    endsAt: '2026-12-01T12:00:00+01:00',
    organizer: { email: 'Ana@Example.com', name: 'Ana' },
    attendees: [{ email: 'bo@example.com' }, { email: 'ana@example.com' }],
  };
  const window = (email: string, from: string, to: string, door = 'front'): Grant => ({ email, door, from, to });

  it('gives organizer and attendees the doors with grace, pending until a card, and a card opens them at once', async () => {
    const res = await s.call('PUT', '/api/v1/bookings/b-1', { body });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      bookingId: 'b-1',
      resourceId: 'room-1',
      startsAt: '2026-12-01T10:00:00.000Z',
      endsAt: '2026-12-01T11:00:00.000Z',
      organizer: { email: 'ana@example.com', name: 'Ana' },
      // The organizer listed again is one participant.
      attendees: [{ email: 'bo@example.com', name: null }],
      updatedAt: '2026-12-01T08:00:00.000Z',
    });
    expect(grants()).toEqual([window('ana@example.com', '2026-12-01T09:30:00.000Z', '2026-12-01T11:30:00.000Z'), window('bo@example.com', '2026-12-01T09:30:00.000Z', '2026-12-01T11:30:00.000Z')]);
    const bo = (await (await s.call('GET', '/api/v1/people/bo@example.com')).json()) as { pending: boolean };
    expect(bo.pending).toBe(true);

    expect((await s.call('PUT', '/api/v1/people/bo@example.com/cards/4321', { body: {} })).status).toBe(201);
    expect(decideCard(s.index, '4321', 'front', at('2026-12-01T09:31:00Z')).result).toBe('granted');
    expect(decideCard(s.index, '4321', 'front', at('2026-12-01T09:29:00Z')).result).toBe('denied');
    expect(decideCard(s.index, '4321', 'front', at('2026-12-01T11:31:00Z')).result).toBe('denied');
    expect(decideCard(s.index, '4321', 'lab', at('2026-12-01T10:30:00Z')).result).toBe('denied');

    const read = await s.call('GET', '/api/v1/bookings/b-1', { token: s.tokens.read });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ bookingId: 'b-1', organizer: { email: 'ana@example.com' } });
    expect(recentChanges(s.store, 10).find((c) => c.target === 'b-1')).toMatchObject({ actor: 'api:t-write', action: 'booking.create' });
  });

  it('an identical retry writes nothing; a PUT moves the window; DELETE revokes at once', async () => {
    expect((await s.call('PUT', '/api/v1/bookings/b-1', { body })).status).toBe(201);
    const before = tableHashes(s.store.db);
    s.clock.advance(5_000); // under a minute: the token's last-use time is not due yet
    const retry = await s.call('PUT', '/api/v1/bookings/b-1', { body });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { updatedAt: string }).updatedAt).toBe('2026-12-01T08:00:00.000Z');
    expect(tableHashes(s.store.db)).toEqual(before);

    const moved = await s.call('PUT', '/api/v1/bookings/b-1', { body: { ...body, startsAt: '2026-12-01T14:00:00Z', endsAt: '2026-12-01T15:00:00Z', attendees: [] } });
    expect(moved.status).toBe(200);
    expect(grants()).toEqual([window('ana@example.com', '2026-12-01T13:30:00.000Z', '2026-12-01T15:30:00.000Z')]);
    expect(recentChanges(s.store, 1)[0]).toMatchObject({ action: 'booking.update', target: 'b-1' });

    expect((await s.call('DELETE', '/api/v1/bookings/b-1')).status).toBe(204);
    expect(grants()).toEqual([]);
    expect(recentChanges(s.store, 1)[0]).toMatchObject({ action: 'booking.cancel', target: 'b-1' });
    expect((await s.call('GET', '/api/v1/bookings/b-1')).status).toBe(404);
    expect((await s.call('DELETE', '/api/v1/bookings/b-1')).status).toBe(404);
  });

  const malformed: [string, unknown, string, string][] = [
    ['unknown field', { ...body, room: 'x' }, 'invalid_request', 'body'],
    ['instant without offset', { ...body, startsAt: '2026-12-01T10:00:00' }, 'invalid_request', 'body.startsAt'],
    ['end before start', { ...body, endsAt: '2026-12-01T09:00:00Z' }, 'invalid_request', 'body.endsAt'],
    ['zero length', { ...body, endsAt: body.startsAt }, 'invalid_request', 'body.endsAt'],
    ['no organizer', { ...body, organizer: undefined }, 'invalid_request', 'body.organizer'],
    ['bad attendee email', { ...body, attendees: [{ email: 'bo' }] }, 'invalid_request', 'body.attendees.0.email'],
    ['attendees not a list', { ...body, attendees: 'bo@example.com' }, 'invalid_request', 'body.attendees'],
    ['unknown resource', { ...body, resourceId: 'room-9' }, 'unknown_resource', 'body.resourceId'],
    ['not JSON', '{"resourceId":', 'invalid_json', 'body'],
  ];
  it.each(malformed)('refuses %s with its code and field, changing nothing', async (_name, bad, code, field) => {
    expect((await s.call('PUT', '/api/v1/bookings/b-1', { body })).status).toBe(201);
    const before = tableHashes(s.store.db);
    const res = await s.call('PUT', '/api/v1/bookings/b-1', { body: bad });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const refusal = (await res.json()) as ErrorBody;
    expect(refusal.error).toMatchObject({ code, field });
    expect(tableHashes(s.store.db)).toEqual(before);
  });

  it('lists pushed bookings a page at a time, by resource and by the window they overlap, never the fetched lists', async () => {
    const push = (id: string, start: string, end: string) => s.call('PUT', `/api/v1/bookings/${id}`, { body: { ...body, startsAt: start, endsAt: end } });
    expect((await push('b-1', '2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z')).status).toBe(201);
    expect((await push('b-2', '2026-12-01T12:00:00Z', '2026-12-01T13:00:00Z')).status).toBe(201);
    expect((await push('b-3', '2026-12-01T15:00:00Z', '2026-12-01T16:00:00Z')).status).toBe(201);
    // A booking of the platform's fetched daily list (not pushed) is the platform's to list.
    s.store.transact((tx) => upsertAppointment(tx, { appointmentId: 'A-77', resourceId: 'room-1', status: 'confirmed', startAt: at('2026-12-01T12:00:00Z'), endAt: at('2026-12-01T13:00:00Z'), participants: ['cy@example.com'], updatedAt: null, fetchedAt: 0 }));
    type Page = { items: { bookingId: string }[]; next: string | null };
    const list = async (query: string) => {
      const res = await s.call('GET', `/api/v1/bookings${query}`, { token: s.tokens.read });
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      return { ids: page.items.map((b) => b.bookingId), next: page.next };
    };
    expect((await list('')).ids).toEqual(['b-1', 'b-2', 'b-3']);
    expect((await list('?from=2026-12-01T11:30:00Z')).ids).toEqual(['b-2', 'b-3']);
    expect((await list('?from=2026-12-01T10:30:00Z&to=2026-12-01T12:30:00Z')).ids).toEqual(['b-1', 'b-2']);
    expect((await list('?resourceId=room-9')).ids).toEqual([]);
    const first = await list('?limit=2');
    expect(first.ids).toEqual(['b-1', 'b-2']);
    expect(await list(`?limit=2&cursor=${first.next!}`)).toEqual({ ids: ['b-3'], next: null });

    const before = tableHashes(s.store.db);
    const refused = async (query: string, field: string) => {
      const res = await s.call('GET', `/api/v1/bookings${query}`, { token: s.tokens.read });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.field).toBe(field);
    };
    await refused('?cursor=nonsense', 'query.cursor');
    await refused('?from=2026-12-01T12:00:00Z&to=2026-12-01T11:00:00Z', 'query.to');
    expect(tableHashes(s.store.db)).toEqual(before);
  });

  it('a read token may read but not push or cancel', async () => {
    expect((await s.call('PUT', '/api/v1/bookings/b-1', { body })).status).toBe(201);
    await s.call('GET', '/api/v1/bookings/b-1', { token: s.tokens.read }); // its first use stamps last_used_at
    const before = tableHashes(s.store.db);
    const put = await s.call('PUT', '/api/v1/bookings/b-2', { body, token: s.tokens.read });
    expect(put.status).toBe(403);
    expect(((await put.json()) as ErrorBody).error.code).toBe('forbidden_scope');
    expect((await s.call('DELETE', '/api/v1/bookings/b-1', { token: s.tokens.read })).status).toBe(403);
    expect(tableHashes(s.store.db)).toEqual(before);
  });

  it('a changed resource mapping reaches ongoing and future pushed bookings; a new grace the next PUT', async () => {
    const ongoing = { ...body, startsAt: '2026-12-01T07:30:00Z', endsAt: '2026-12-01T09:00:00Z', attendees: [] };
    expect((await s.call('PUT', '/api/v1/bookings/now', { body: ongoing })).status).toBe(201);
    expect((await s.call('PUT', '/api/v1/bookings/later', { body: { ...body, attendees: [] } })).status).toBe(201);

    // A reload that maps room-1 to lab instead of front, as gateway-reload.ts applies it.
    s.store.transact((tx) => {
      const changed = syncDoorsAndResources(tx, [{ id: 'front', name: 'front' }, { id: 'lab', name: 'lab' }], new Map([['room-1', ['lab']]]));
      expect(changed).toEqual(['room-1']);
      expect(rederiveFromConfig(s.store, s.bookingConfig, changed, s.clock.now())).toBe(2);
    });
    expect(grants()).toEqual([
      window('ana@example.com', '2026-12-01T07:00:00.000Z', '2026-12-01T09:30:00.000Z', 'lab'),
      window('ana@example.com', '2026-12-01T09:30:00.000Z', '2026-12-01T11:30:00.000Z', 'lab'),
    ]);

    s.bookingConfig.resources = [{ id: 'room-1', graceBeforeMinutes: 5, graceAfterMinutes: 0 }];
    expect((await s.call('PUT', '/api/v1/bookings/next', { body: { ...body, organizer: { email: 'cy@example.com' }, attendees: [] } })).status).toBe(201);
    expect(grants().filter((g) => g.email === 'cy@example.com')).toEqual([window('cy@example.com', '2026-12-01T09:55:00.000Z', '2026-12-01T11:00:00.000Z', 'lab')]);
  });

  it("the platform's daily lists never drop or overwrite a pushed booking", async () => {
    expect((await s.call('PUT', '/api/v1/bookings/b-1', { body })).status).toBe(201);
    const pushed = grants();
    // The platform lists room-1 for that day without it, and with an id that looks like ours.
    const list = dailyListSchema.parse({
      resourceId: 'room-1',
      date: '2026-12-01',
      timeZone: 'UTC',
      appointments: [{ appointmentId: 'api:b-1', status: 'cancelled', start: '2026-12-01T10:00:00Z', end: '2026-12-01T11:00:00Z', organizer: null }],
    });
    s.store.transact((tx) => applyDailyList(tx, list, policyOfConfig(tx, s.bookingConfig), s.clock.now()));
    expect(grants()).toEqual(pushed);
    s.store.transact((tx) => applyResourceGone(tx, 'room-1', '2026-12-01'));
    expect(grants()).toEqual(pushed);
    expect((await s.call('GET', '/api/v1/bookings/b-1')).status).toBe(200);
  });
});
