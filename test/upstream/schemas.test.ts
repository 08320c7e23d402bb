import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appointmentSchema,
  callbackSchema,
  dailyListSchema,
  opaqueId,
  parseRfc3339,
  resourcesSchema,
  rfc3339,
  visitSchema,
} from '../../src/upstream/schemas.js';
import { at, Harness } from './harness.js';

/*
 * The upstream schemas against what upstream-api.md allows: every body a spec-following platform
 * may send is accepted with the right values, garbage is still refused, and what the gateway
 * does not use is never a reason to refuse.
 */

const appointment = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  appointmentId: 'A-9001',
  status: 'confirmed',
  start: '2026-11-22T12:00:00+01:00',
  end: '2026-11-22T16:00:00+01:00',
  organizer: { email: 'ana@example.com', name: 'Ana Silva' },
  attendees: [{ email: 'li@example.com', name: 'Li Wei' }],
  updatedAt: '2026-11-22T08:14:03+01:00',
  ...over,
});

const list = (appointments: unknown[]): Record<string, unknown> => ({
  resourceId: 'R-101',
  date: '2026-11-22',
  timeZone: 'Europe/Amsterdam',
  appointments,
});

const callback = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  subscriptionId: 'S-1',
  type: 'appointment.created',
  resourceId: 'R-101',
  appointmentId: 'A-9001',
  dates: ['2026-11-22'],
  occurredAt: '2026-11-22T08:14:03+01:00',
  ...over,
});

describe('RFC 3339 times (section 5.6 of the RFC: "T" and "Z" may be lower case; leap seconds)', () => {
  it('lower-case t and z are accepted, with the same instant, in a spelling Date.parse reads', () => {
    expect(rfc3339.parse('2026-11-22t11:00:00z')).toBe('2026-11-22T11:00:00Z');
    expect(rfc3339.parse('2026-11-22t12:00:00+01:00')).toBe('2026-11-22T12:00:00+01:00');
    expect(rfc3339.parse('2026-11-22T11:00:00z')).toBe('2026-11-22T11:00:00Z');
    for (const s of ['2026-11-22t11:00:00z', '2026-11-22t12:00:00+01:00', '2026-11-22T06:00:00.000-05:00']) {
      expect(Date.parse(rfc3339.parse(s))).toBe(Date.parse('2026-11-22T11:00:00Z'));
    }
  });

  it('fractions of any length (truncated to ms), -00:00, offsets up to ±23:59', () => {
    expect(parseRfc3339('2026-11-22T16:00:00.123456789+01:00')).toEqual({ ms: Date.parse('2026-11-22T15:00:00.123Z'), canonical: '2026-11-22T16:00:00.123+01:00' });
    expect(parseRfc3339('2026-11-22T11:00:00.9999Z')?.ms).toBe(Date.parse('2026-11-22T11:00:00.999Z'));
    expect(parseRfc3339('2026-11-22T11:00:00.5Z')?.ms).toBe(Date.parse('2026-11-22T11:00:00.500Z'));
    expect(parseRfc3339('2026-11-22T11:00:00-00:00')?.ms).toBe(Date.parse('2026-11-22T11:00:00Z'));
    expect(parseRfc3339('2026-11-22T23:59:00+23:59')?.ms).toBe(Date.parse('2026-11-22T00:00:00Z'));
    expect(parseRfc3339('2024-02-29T00:00:00Z')?.ms).toBe(Date.parse('2024-02-29T00:00:00Z'));
    expect(parseRfc3339('0001-01-01T00:00:00Z')?.ms).toBe(Date.parse('0001-01-01T00:00:00Z'));
  });

  it('a leap second is clamped to :59.999 of its minute, in UTC or any offset, and keeps the order', () => {
    const leap = Date.parse('2016-12-31T23:59:59.999Z');
    expect(parseRfc3339('2016-12-31T23:59:60Z')).toEqual({ ms: leap, canonical: '2016-12-31T23:59:59.999Z' });
    expect(parseRfc3339('2016-12-31t23:59:60.5z')?.ms).toBe(leap);
    expect(parseRfc3339('2017-01-01T00:59:60+01:00')).toEqual({ ms: leap, canonical: '2017-01-01T00:59:59.999+01:00' });
    expect(parseRfc3339('2016-12-31T18:59:60-05:00')?.ms).toBe(leap);
    expect(parseRfc3339('2015-06-30T23:59:60Z')?.ms).toBe(Date.parse('2015-06-30T23:59:59.999Z'));
    expect(Date.parse(rfc3339.parse('2016-12-31T23:59:59.5Z'))).toBeLessThan(leap);
    expect(Date.parse(rfc3339.parse('2017-01-01T00:00:00Z'))).toBeGreaterThan(leap);
  });

  it('still refused: no offset, other spellings, impossible dates and times, a :60 that cannot be a leap second', () => {
    for (const bad of [
      '2026-11-22T11:00:00', // no offset: the instant is unknown
      '2026-11-22t11:00:00',
      '2026-11-22T11:00Z', // seconds are not optional
      '2026-11-22T11:00:00+0100',
      '2026-11-22T11:00:00+01',
      '2026-11-22 11:00:00Z',
      '2026-11-22T11:00:00.Z',
      '2026-11-22T11:00:00,5Z',
      ' 2026-11-22T11:00:00Z',
      '2026-11-22T11:00:00Z ',
      '2026-02-30T11:00:00Z',
      '2025-02-29T11:00:00Z',
      '2100-02-29T11:00:00Z',
      '2026-13-01T11:00:00Z',
      '2026-11-22T24:00:00Z',
      '2026-11-22T11:60:00Z',
      '2026-11-22T11:00:61Z',
      '2026-11-22T12:00:60Z', // not the last minute of a UTC day
      '2016-12-31T23:59:60+01:00', // 22:59:60 UTC
      '2026-11-22T11:00:00+24:00',
      '2026-11-22T11:00:00+01:60',
      '+002026-11-22T11:00:00Z',
      'tomorrow',
      '',
    ]) {
      expect(rfc3339.safeParse(bad).success, bad).toBe(false);
    }
    expect(rfc3339.safeParse(1795345200000).success).toBe(false);
    expect(rfc3339.safeParse(null).success).toBe(false);
  });

  it('property: any instant written in any offset, in either case, reads back as that instant', () => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('0001-01-02T00:00:00Z'), max: Date.parse('9999-12-30T23:59:59.999Z') }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 6 }),
        (ms, offsetMin, lower, extraDigits) => {
          const local = new Date(ms + offsetMin * 60_000);
          const abs = Math.abs(offsetMin);
          const offset = offsetMin === 0 && lower ? 'z' : `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
          const text =
            `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}${lower ? 't' : 'T'}` +
            `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${pad(local.getUTCMilliseconds(), 3)}${'7'.repeat(extraDigits)}${offset}`;
          const parsed = parseRfc3339(text);
          expect(parsed?.ms).toBe(ms);
          expect(Date.parse(rfc3339.parse(text))).toBe(ms);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('ids: "opaque strings of at most 128 characters"', () => {
  it('128 characters, also outside the BMP (256 UTF-16 code units); not 129, not empty, not a number', () => {
    expect(opaqueId.safeParse('A'.repeat(128)).success).toBe(true);
    expect(opaqueId.safeParse('😀'.repeat(128)).success).toBe(true);
    expect(opaqueId.safeParse('R/1 x?#').success).toBe(true);
    expect(opaqueId.safeParse('A'.repeat(129)).success).toBe(false);
    expect(opaqueId.safeParse('😀'.repeat(129)).success).toBe(false);
    expect(opaqueId.safeParse('').success).toBe(false);
    expect(opaqueId.safeParse(101).success).toBe(false);
  });
});

describe('daily list (section 5)', () => {
  it('the spec example parses to the values shown', () => {
    const parsed = dailyListSchema.parse(list([appointment()]));
    expect(parsed.appointments[0]).toEqual({
      appointmentId: 'A-9001',
      status: 'confirmed',
      start: '2026-11-22T12:00:00+01:00',
      end: '2026-11-22T16:00:00+01:00',
      organizer: { email: 'ana@example.com', name: 'Ana Silva' },
      attendees: [{ email: 'li@example.com', name: 'Li Wei' }],
      updatedAt: '2026-11-22T08:14:03+01:00',
    });
  });

  it('attendees null or missing: no attendees, the list is accepted', () => {
    expect(appointmentSchema.parse(appointment({ attendees: null })).attendees).toEqual([]);
    const { attendees: _omit, ...without } = appointment();
    expect(appointmentSchema.parse(without).attendees).toEqual([]);
    expect(appointmentSchema.parse(appointment({ attendees: [] })).attendees).toEqual([]);
    // Not a list at all is not a spec-following body.
    expect(appointmentSchema.safeParse(appointment({ attendees: 'li@example.com' })).success).toBe(false);
  });

  it('updatedAt missing or null: unknown (null); malformed: refused', () => {
    const { updatedAt: _omit, ...without } = appointment();
    expect(appointmentSchema.parse(without).updatedAt).toBeNull();
    expect(appointmentSchema.parse(appointment({ updatedAt: null })).updatedAt).toBeNull();
    expect(appointmentSchema.parse(appointment({ updatedAt: '2026-11-22t07:14:03z' })).updatedAt).toBe('2026-11-22T07:14:03Z');
    expect(appointmentSchema.safeParse(appointment({ updatedAt: 'recently' })).success).toBe(false);
    expect(appointmentSchema.safeParse(appointment({ updatedAt: '2026-11-22T08:14:03' })).success).toBe(false);
  });

  it('lower-case and leap-second times in start and end: the right instants', () => {
    const a = appointmentSchema.parse(appointment({ start: '2016-12-31t23:00:00z', end: '2016-12-31t23:59:60z' }));
    expect(Date.parse(a.start)).toBe(Date.parse('2016-12-31T23:00:00Z'));
    expect(Date.parse(a.end)).toBe(Date.parse('2016-12-31T23:59:59.999Z'));
    expect(dailyListSchema.safeParse(list([appointment({ start: '2026-11-22t12:00:00+01:00', end: '2026-11-22t10:59:59z' })])).success).toBe(false);
  });

  it('an email with surrounding whitespace is that person (trimmed; compared case-insensitively later)', () => {
    const a = appointmentSchema.parse(appointment({ organizer: { email: ' Ana@X.com ' }, attendees: [{ email: '\tli@example.com\n', name: 'Li' }] }));
    expect(a.organizer).toEqual({ email: 'Ana@X.com', name: undefined });
    expect(a.attendees).toEqual([{ email: 'li@example.com', name: 'Li' }]);
  });

  it('one unusable participant is dropped alone, organizer included; a bad display name costs nothing', () => {
    const a = appointmentSchema.parse(
      appointment({
        organizer: { email: 'not an email' },
        attendees: [{ email: 'li@example.com', name: 42 }, { email: '' }, null, 'x', { name: 'no email' }, { email: 'sam@partner.example', name: null }],
      }),
    );
    expect(a.organizer).toBeNull();
    expect(a.attendees).toEqual([
      { email: 'li@example.com', name: undefined },
      { email: 'sam@partner.example', name: undefined },
    ]);
    for (const organizer of [undefined, null, 'ana@example.com', { email: 7 }, { email: 'a b@example.com' }]) {
      const parsed = appointmentSchema.parse(appointment({ organizer }));
      expect(parsed.organizer).toBeNull();
      expect(parsed.attendees).toHaveLength(1);
    }
  });

  it('a status the spec does not list grants nothing (read as cancelled), and the list still applies', () => {
    expect(appointmentSchema.parse(appointment({ status: 'confirmed' })).status).toBe('confirmed');
    expect(appointmentSchema.parse(appointment({ status: 'cancelled' })).status).toBe('cancelled');
    for (const status of ['tentative', 'CONFIRMED', 'Confirmed', ' confirmed', '', null, 1, undefined]) {
      expect(appointmentSchema.parse(appointment({ status })).status, String(status)).toBe('cancelled');
    }
    const parsed = dailyListSchema.parse(list([appointment({ appointmentId: 'A-1', status: 'pending_approval' }), appointment({ appointmentId: 'A-2' })]));
    expect(parsed.appointments.map((a) => [a.appointmentId, a.status])).toEqual([
      ['A-1', 'cancelled'],
      ['A-2', 'confirmed'],
    ]);
  });

  it('garbage is still refused: bad id, bad times, end before start, no offset, wrong list header', () => {
    for (const bad of [
      appointment({ appointmentId: 'A'.repeat(129) }),
      appointment({ appointmentId: undefined }),
      appointment({ start: 'tomorrow' }),
      appointment({ start: '2026-11-22T12:00:00' }),
      appointment({ end: undefined }),
    ]) {
      expect(dailyListSchema.safeParse(list([bad])).success).toBe(false);
    }
    expect(dailyListSchema.safeParse(list([appointment({ end: '2026-11-22T11:59:59+01:00' })])).success).toBe(false);
    expect(dailyListSchema.safeParse({ ...list([]), timeZone: 'Mars/Olympus' }).success).toBe(false);
    expect(dailyListSchema.safeParse({ ...list([]), date: '2026-11-31' }).success).toBe(false);
    expect(dailyListSchema.safeParse({ ...list([]), appointments: undefined }).success).toBe(false);
  });
});

describe('callback body (section 4)', () => {
  it('the spec example parses; type, appointmentId and occurredAt are informational', () => {
    expect(callbackSchema.parse(callback())).toEqual(callback());
  });

  it('a malformed, missing or unknown appointmentId, occurredAt or type is accepted (never a 400 retried for 24 h)', () => {
    for (const over of [
      { appointmentId: 'A'.repeat(129) },
      { appointmentId: undefined },
      { appointmentId: 9001 },
      { appointmentId: '' },
      { occurredAt: 'just now' },
      { occurredAt: '2026-11-22T08:14:03' },
      { occurredAt: 1795339443 },
      { occurredAt: undefined },
      { type: 'appointment.deleted' },
      { type: undefined },
      { type: { v: 2 } },
    ]) {
      const parsed = callbackSchema.safeParse(callback(over));
      expect(parsed.success, JSON.stringify(over)).toBe(true);
      expect(parsed.data).toMatchObject({ subscriptionId: 'S-1', resourceId: 'R-101', dates: ['2026-11-22'] });
    }
    const odd = callbackSchema.parse(callback({ occurredAt: 1795339443, appointmentId: 9001 }));
    expect(odd.occurredAt).toBeUndefined();
    expect(odd.appointmentId).toBeUndefined();
  });

  it('what it is used for stays strict: subscriptionId, resourceId (ids ≤ 128), dates (valid, 1 to 1000)', () => {
    for (const over of [
      { subscriptionId: 'S'.repeat(129) },
      { subscriptionId: undefined },
      { subscriptionId: '' },
      { resourceId: 'R'.repeat(129) },
      { resourceId: undefined },
      { resourceId: 101 },
      { dates: [] },
      { dates: undefined },
      { dates: '2026-11-22' },
      { dates: ['2026-02-30'] },
      { dates: ['2026-11-22T00:00:00Z'] },
      { dates: ['22-11-2026'] },
      { dates: Array.from({ length: 1001 }, () => '2026-11-22') },
    ]) {
      expect(callbackSchema.safeParse(callback(over)).success, JSON.stringify(over).slice(0, 80)).toBe(false);
    }
    expect(callbackSchema.safeParse(callback({ dates: Array.from({ length: 1000 }, () => '2026-11-22') })).success).toBe(true);
  });

  it('a moved booking names the old and the new date; a date named twice is fetched once', () => {
    expect(callbackSchema.parse(callback({ dates: ['2026-11-22', '2026-11-25', '2026-11-22'] })).dates).toEqual(['2026-11-22', '2026-11-25']);
  });
});

describe('resources (section 2) and visits (section 6): only what is used is held to the contract', () => {
  it('a resource type outside the five, a missing name or location: the list is still usable', () => {
    const parsed = resourcesSchema.parse({
      resources: [
        { resourceId: 'R-101', name: 'Room Orion', type: 'room', locationId: 'HQ' },
        { resourceId: 'R-900', type: 'locker' },
        { resourceId: 'R-901', name: null, type: null, locationId: 7 },
      ],
    });
    expect(parsed.resources).toEqual([
      { resourceId: 'R-101', name: 'Room Orion', type: 'room', locationId: 'HQ' },
      { resourceId: 'R-900', name: undefined, type: undefined, locationId: undefined },
      { resourceId: 'R-901', name: undefined, type: undefined, locationId: undefined },
    ]);
    expect(resourcesSchema.safeParse({ resources: [{ name: 'no id', type: 'room' }] }).success).toBe(false);
    expect(resourcesSchema.safeParse({ resources: [{ resourceId: 'R'.repeat(129) }] }).success).toBe(false);
  });

  const visit = {
    visitId: 'VIS-311',
    visitor: { name: 'Sam Roe', email: 'sam@partner.example', company: 'Partner BV' },
    host: { name: 'Ana Silva', email: 'ana@example.com' },
    status: 'checked_in',
    validFrom: '2026-11-22T09:00:00+01:00',
    validTo: '2026-11-22T18:00:00+01:00',
  };

  it('visit: emails trimmed; names, company or an unusable email never refuse the visit', () => {
    expect(visitSchema.parse(visit)).toEqual({ ...visit, host: { ...visit.host, company: undefined } });
    const odd = visitSchema.parse({ ...visit, visitor: { email: ' Sam@Partner.example ' }, host: { name: null, email: 'not an email' }, validTo: '2026-11-22t17:00:00z' });
    expect(odd.visitor.email).toBe('Sam@Partner.example');
    expect(odd.host.email).toBeUndefined();
    expect(Date.parse(odd.validTo)).toBe(Date.parse('2026-11-22T17:00:00Z'));
    expect(visitSchema.parse({ ...visit, visitor: undefined, host: 'Ana' }).visitor.email).toBeUndefined();
  });

  it('visit: what decides stays strict (status, times, id)', () => {
    expect(visitSchema.safeParse({ ...visit, status: 'teleported' }).success).toBe(false);
    expect(visitSchema.safeParse({ ...visit, validFrom: '2026-11-22T09:00:00' }).success).toBe(false);
    expect(visitSchema.safeParse({ ...visit, visitId: '' }).success).toBe(false);
  });
});

describe('applied: what the relaxed lists grant (simulator over loopback, the gateway fetch rewrites a list)', () => {
  type WireAppointment = Record<string, unknown> & { appointmentId: string };

  /** A Harness whose daily lists of R-101 on the 22nd pass through `edit` on the way in. */
  async function harness(edit: (a: WireAppointment) => void): Promise<{ h: Harness; enabled: { on: boolean } }> {
    const enabled = { on: true };
    const editing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!enabled.on || !String(input).includes('R-101/appointments?date=2026-11-22')) return res;
      const body = (await res.json()) as { appointments: WireAppointment[] };
      body.appointments.forEach(edit);
      return new Response(JSON.stringify(body), { status: res.status });
    };
    const h = await new Harness({ start: false, fetch: editing }).init();
    h.giveCard('ana@example.com', '1001');
    h.giveCard('li@example.com', '2002');
    return { h, enabled };
  }

  const booking = { resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: { email: 'ana@example.com' }, attendees: [{ email: 'li@example.com' }] };

  it('an organizer whose email is unusable: the attendees are still granted, the organizer is not', async () => {
    const { h } = await harness((a) => (a.organizer = { email: 'ana at example.com', name: 'Ana' }));
    try {
      h.sim.model.create(booking);
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.decide('2002', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
    } finally {
      await h.close();
    }
  });

  it('attendees null, emails with whitespace, lower-case times: the list applies with the right window', async () => {
    const { h } = await harness((a) => {
      a.attendees = null;
      a.organizer = { email: '  ANA@Example.com ' };
      a.start = '2026-11-22t11:00:00z';
      a.end = '2026-11-22t13:00:00+01:00';
    });
    try {
      h.sim.model.create(booking);
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.decide('1001', 'door-orion', '2026-11-22T10:29:59.999Z')).toBe('denied');
      expect(h.decide('1001', 'door-orion', '2026-11-22T10:30:00Z')).toBe('granted');
      expect(h.decide('1001', 'door-orion', '2026-11-22T12:29:59.999Z')).toBe('granted');
      expect(h.decide('1001', 'door-orion', '2026-11-22T12:30:00Z')).toBe('denied');
      expect(h.decide('2002', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
    } finally {
      await h.close();
    }
  });

  it('a status the spec does not list revokes a confirmed booking (fail closed); the other bookings of the list still apply', async () => {
    let status: string | null = null;
    const { h } = await harness((a) => {
      if (status !== null && a.appointmentId === 'A-first') a.status = status;
    });
    try {
      h.sim.model.create({ ...booking, appointmentId: 'A-first', attendees: [] });
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
      status = 'on_hold';
      h.sim.model.create({ ...booking, appointmentId: 'A-second', organizer: { email: 'li@example.com' }, attendees: [], start: at('2026-11-22T14:00:00Z'), end: at('2026-11-22T15:00:00Z') });
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
      expect(h.decide('2002', 'door-orion', '2026-11-22T14:30:00Z')).toBe('granted');
      // Once the platform says confirmed again (the same updatedAt is not older), it grants again.
      status = null;
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
    } finally {
      await h.close();
    }
  });

  it('updatedAt missing: the list is applied as the latest truth (a cancellation revokes), later lists with it too', async () => {
    const { h, enabled } = await harness((a) => delete a.updatedAt);
    try {
      enabled.on = false; // first list as the simulator sends it, updatedAt stored
      const id = h.sim.model.create(booking)[0]!.appointmentId;
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
      enabled.on = true; // the platform now omits updatedAt
      h.clock.advance(60_000);
      h.sim.model.cancel(id);
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
      expect(h.decide('2002', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
      const stored = h.store.db.prepare('SELECT status, updated_at FROM appointments WHERE appointment_id = ?').get(id);
      expect(stored).toEqual({ status: 'cancelled', updated_at: null });
      // With updatedAt back, a newer list applies over the unknown one.
      enabled.on = false;
      h.clock.advance(60_000);
      h.sim.model.update(id, { end: at('2026-11-22T12:30:00Z') });
      expect((await h.sync.reconcileNow()).failed).toBe(0);
      expect(h.store.db.prepare('SELECT updated_at FROM appointments WHERE appointment_id = ?').pluck().get(id)).toEqual(expect.any(String));
    } finally {
      await h.close();
    }
  });
});
