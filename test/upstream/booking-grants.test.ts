import { afterEach, describe, expect, it } from 'vitest';
import { at, Harness } from './harness.js';

const ana = { email: 'Ana@Example.com', name: 'Ana Silva' };
const li = { email: 'li@example.com', name: 'Li Wei' };

describe('grants from bookings (simulator over loopback, SQLite file, index via onCommit)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('organizer and attendees get the doors from start − 30 min to end + 30 min', async () => {
    h = await new Harness().init();
    h.giveCard('ana@example.com', '1001');
    h.giveCard('LI@example.com', '1002');
    h.sim.createAppointment({ resourceId: 'R-102', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana, attendees: [li] });
    await h.settle();
    for (const card of ['1001', '1002']) {
      for (const door of ['door-lyra', 'door-lobby']) {
        expect(h.decide(card, door, '2026-11-22T10:29:59.999Z')).toBe('denied');
        expect(h.decide(card, door, '2026-11-22T10:30:00Z')).toBe('granted');
        expect(h.decide(card, door, '2026-11-22T12:29:59.999Z')).toBe('granted');
        expect(h.decide(card, door, '2026-11-22T12:30:00Z')).toBe('denied');
      }
      expect(h.decide(card, 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
    }
    expect(h.sync.status().callbacks.accepted).toBe(1);
  });

  it('per-resource grace overrides the default', async () => {
    h = await new Harness({
      grace: { beforeMin: 30, afterMin: 30 },
      resources: [
        { id: 'R-101', doors: ['door-orion'], graceBeforeMinutes: 5, graceAfterMinutes: 0 },
        { id: 'R-102', doors: ['door-lyra'] },
      ],
    }).init();
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.decide('1001', 'door-orion', '2026-11-22T10:54:59Z')).toBe('denied');
    expect(h.decide('1001', 'door-orion', '2026-11-22T10:55:00Z')).toBe('granted');
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:59:59Z')).toBe('granted');
    expect(h.decide('1001', 'door-orion', '2026-11-22T12:00:00Z')).toBe('denied');
  });

  it('a cancelled booking revokes, whether the list still shows it or it is gone', async () => {
    for (const mode of ['listed', 'gone'] as const) {
      h = await new Harness().init();
      h.sim.model.cancelledMode = mode;
      h.giveCard('ana@example.com', '1001');
      const id = h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
      await h.settle();
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
      h.sim.cancelAppointment(id);
      await h.settle();
      expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
      expect(h.grantCount()).toBe(0);
      await h.close();
    }
  });

  it('a moved booking moves its grants, also to another day and to another resource', async () => {
    h = await new Harness().init();
    h.giveCard('ana@example.com', '1001');
    const id = h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    await h.advance(1000);
    h.sim.moveAppointment(id, { start: at('2026-11-23T15:00:00Z'), end: at('2026-11-23T16:00:00Z') });
    await h.settle();
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
    expect(h.decide('1001', 'door-orion', '2026-11-23T15:30:00Z')).toBe('granted');
    await h.advance(1000);
    h.sim.moveAppointment(id, { start: at('2026-11-23T15:00:00Z'), end: at('2026-11-23T16:00:00Z'), resourceId: 'R-102' });
    await h.settle();
    expect(h.decide('1001', 'door-orion', '2026-11-23T15:30:00Z')).toBe('denied');
    expect(h.decide('1001', 'door-lyra', '2026-11-23T15:30:00Z')).toBe('granted');
    expect(h.decide('1001', 'door-lobby', '2026-11-23T15:30:00Z')).toBe('granted');
  });

  it('an attendee removed from a booking loses access; emails compare case-insensitively', async () => {
    h = await new Harness().init();
    h.giveCard('li@example.com', '1002');
    const id = h.sim.createAppointment({
      resourceId: 'R-101',
      start: at('2026-11-22T11:00:00Z'),
      end: at('2026-11-22T12:00:00Z'),
      organizer: ana,
      attendees: [{ email: 'LI@EXAMPLE.COM' }, { email: 'ana@example.com' }],
    });
    await h.settle();
    expect(h.decide('1002', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
    const people = h.store.db.prepare('SELECT email FROM people ORDER BY email').all();
    expect(people).toEqual([{ email: 'ana@example.com' }, { email: 'li@example.com' }]);
    await h.advance(1000);
    h.sim.updateAppointment(id, { attendees: [] });
    await h.settle();
    expect(h.decide('1002', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
  });

  it('a pending participant (no card yet) gets access the moment a card is assigned', async () => {
    h = await new Harness().init();
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.decide('7777', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
    expect(h.grantCount()).toBe(1);
    h.giveCard('ana@example.com', '7777');
    expect(h.decide('7777', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
  });

  it('a booking across midnight in Amsterdam is exact on both dates, and on a DST day', async () => {
    h = await new Harness({ grace: { beforeMin: 0, afterMin: 0 } }).init();
    h.giveCard('ana@example.com', '1001');
    // 22:00 on the 25th October (fall-back night) to 02:30 local on the 26th: 5.5 hours of wall time + 1 h.
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-10-25T21:00:00Z'), end: at('2026-10-26T01:30:00Z'), organizer: ana });
    // Spring-forward: 01:30 to 03:30 local on 29 March is one real hour.
    h.sim.createAppointment({ resourceId: 'R-102', start: at('2026-03-29T00:30:00Z'), end: at('2026-03-29T01:30:00Z'), organizer: ana });
    await h.settle();
    const list = h.sim.model.dailyList('R-101', '2026-10-26');
    expect(list.appointments.map((a) => [a.start, a.end])).toEqual([['2026-10-25T22:00:00+01:00', '2026-10-26T02:30:00+01:00']]);
    expect(h.sim.model.dailyList('R-101', '2026-10-25').appointments).toHaveLength(1);
    expect(h.decide('1001', 'door-orion', '2026-10-25T20:59:59.999Z')).toBe('denied');
    expect(h.decide('1001', 'door-orion', '2026-10-25T23:30:00Z')).toBe('granted');
    expect(h.decide('1001', 'door-orion', '2026-10-26T01:29:59.999Z')).toBe('granted');
    expect(h.decide('1001', 'door-orion', '2026-10-26T01:30:00Z')).toBe('denied');
    expect(h.sim.model.dailyList('R-102', '2026-03-29').appointments[0]?.end).toBe('2026-03-29T03:30:00+02:00');
    expect(h.decide('1001', 'door-lyra', '2026-03-29T00:30:00Z')).toBe('granted');
    expect(h.decide('1001', 'door-lyra', '2026-03-29T01:30:00Z')).toBe('denied');
  });

  it('a resource in another zone: the vanished check uses the list\'s own local day', async () => {
    h = await new Harness({ zones: { 'R-101': 'America/New_York' } }).init();
    h.giveCard('ana@example.com', '1001');
    h.sim.model.cancelledMode = 'gone';
    // 21:00–23:00 New York on the 22nd is the 23rd in UTC.
    const id = h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-23T02:00:00Z'), end: at('2026-11-23T04:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.sim.model.dailyList('R-101', '2026-11-22').appointments).toHaveLength(1);
    expect(h.decide('1001', 'door-orion', '2026-11-23T03:00:00Z')).toBe('granted');
    h.sim.cancelAppointment(id);
    await h.settle();
    expect(h.decide('1001', 'door-orion', '2026-11-23T03:00:00Z')).toBe('denied');
    const zone = h.store.db.prepare('SELECT time_zone FROM upstream_resource_zones WHERE resource_id = ?').get('R-101');
    expect(zone).toEqual({ time_zone: 'America/New_York' });
  });
});
