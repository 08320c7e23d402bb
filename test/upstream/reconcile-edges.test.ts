import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { Reconciler } from '../../src/upstream/reconciler.js';
import { hostTimeZone, localDateOf } from '../../src/upstream/tz-dates.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { at, Harness } from './harness.js';

const ana = { email: 'ana@example.com' };
let h: Harness;
let rec: Reconciler | null = null;
afterEach(async () => {
  rec?.stop();
  await rec?.idle();
  rec = null;
  await h?.close();
});

/** A reconciler of its own on the harness's client and store (the harness's sync is not started). */
function reconciler(mapped: string[], extra: { hostZone?: string; logger?: Logger } = {}): Reconciler {
  rec = new Reconciler({
    client: h.sync.client,
    store: h.store,
    clock: h.clock,
    logger: extra.logger ?? silentLogger,
    grace: () => ({ beforeMin: 30, afterMin: 30 }),
    overrides: () => new Map(),
    mappedResources: () => mapped,
    hostZone: extra.hostZone,
  });
  return rec;
}

/** Warnings the reconciler logs, as (object, message) pairs. */
function captureWarnings(): { logger: Logger; warnings: [Record<string, unknown>, string][] } {
  const warnings: [Record<string, unknown>, string][] = [];
  const none = (): void => undefined;
  const logger = { debug: none, info: none, error: none, warn: (obj: Record<string, unknown>, msg: string) => void warnings.push([obj, msg]) };
  return { logger: logger as unknown as Logger, warnings };
}

function countTransactions(store: Store): () => number {
  let n = 0;
  const original = store.transact.bind(store);
  store.transact = ((fn) => {
    n++;
    return original(fn);
  }) as Store['transact'];
  return () => n;
}

/**
 * Fake time in small steps, letting each step's fetches finish: one big step would also fire the
 * deadline of a retry the same step started, while its loopback answer is still on its way.
 */
async function stepClock(ms: number, r: Reconciler, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    h.clock.advance(step);
    await r.idle();
  }
}

/** Ana's card, one booking on R-101 at noon on 22 Nov, swept once; the database's hash after. */
async function bookedAndSwept(): Promise<{ r: Reconciler; before: string }> {
  h = await new Harness({ start: false }).init();
  const r = reconciler(['R-101'], { hostZone: 'UTC' });
  h.giveCard('ana@example.com', '1001');
  h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
  await r.reconcile();
  return { r, before: h.dbHash() };
}

const appointmentsOf = (resourceId: string): string[] =>
  (h.store.db.prepare('SELECT appointment_id FROM appointments WHERE resource_id = ? ORDER BY appointment_id').pluck().all(resourceId) as string[]);

/** The dates the gateway asked the simulator for, in order, for one resource. */
const fetchedDates = (resourceId: string): string[] =>
  h.sim.requests.filter((r) => r.path.includes(`/resources/${resourceId}/appointments`)).map((r) => /date=([\d-]+)/.exec(r.path)![1]!);

describe('a 404 for a daily list: the resource is gone, fail closed', () => {
  it('a room deleted on the platform loses the grants of its cached bookings at the next sweep', async () => {
    h = await new Harness().init();
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    // 22:00 on the 22nd to 02:00 on the 23rd in Amsterdam: listed on both dates.
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T21:00:00Z'), end: at('2026-11-23T01:00:00Z'), organizer: ana });
    h.sim.createAppointment({ resourceId: 'R-102', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    await h.settle();
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
    expect(h.decide('1001', 'door-orion', '2026-11-23T00:30:00Z')).toBe('granted');
    h.sim.model.resources.delete('R-101');
    await h.advance(300_000);
    expect(h.sim.requests.filter((r) => r.path.includes('/R-101/appointments')).at(-1)?.status).toBe(404);
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
    expect(h.decide('1001', 'door-orion', '2026-11-23T00:30:00Z')).toBe('denied');
    expect(appointmentsOf('R-101')).toEqual([]);
    // The other room is untouched, and a 404 is an answer, not a failed fetch.
    expect(h.decide('1001', 'door-lyra', '2026-11-22T11:30:00Z')).toBe('granted');
    expect(h.grantCount()).toBe(2);
    expect(h.sync.status().lastReconcile).toMatchObject({ failed: 0 });
  });

  it('a 404 on one date revokes, in one transaction, what an empty list for that date would, and warns', async () => {
    h = await new Harness({ start: false }).init();
    const { logger, warnings } = captureWarnings();
    const r = reconciler(['R-101', 'R-102'], { logger, hostZone: 'UTC' });
    h.giveCard('ana@example.com', '1001');
    const same = h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    const across = h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T21:00:00Z'), end: at('2026-11-23T01:00:00Z'), organizer: ana });
    const next = h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-23T11:00:00Z'), end: at('2026-11-23T12:00:00Z'), organizer: ana });
    const other = h.sim.createAppointment({ resourceId: 'R-102', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    expect(await r.reconcile()).toMatchObject({ appointments: 5, failed: 0 });
    expect(appointmentsOf('R-101')).toEqual([same, across, next].sort());
    h.sim.model.resources.delete('R-101'); // the room is deleted on the platform
    const transactions = countTransactions(h.store);
    const outcome = await r.refresh('R-101', '2026-11-22');
    expect(outcome).toEqual({ ok: true, result: { appointments: 0, changed: 2 } });
    expect(transactions()).toBe(1);
    // The booking across midnight goes whole, though the 23rd still lists it: the resource is gone.
    expect(appointmentsOf('R-101')).toEqual([next]);
    expect(appointmentsOf('R-102')).toEqual([other]);
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('denied');
    expect(h.decide('1001', 'door-orion', '2026-11-23T00:30:00Z')).toBe('denied');
    expect(h.decide('1001', 'door-orion', '2026-11-23T11:30:00Z')).toBe('granted');
    expect(h.decide('1001', 'door-lyra', '2026-11-22T11:30:00Z')).toBe('granted');
    expect(warnings).toEqual([[{ resourceId: 'R-101', date: '2026-11-22', revoked: 2 }, expect.stringContaining('404')]]);
  });

  it('a 404 that the platform\'s own resource list contradicts revokes nothing (a proxy or wrong baseUrl)', async () => {
    const { r, before } = await bookedAndSwept();
    h.sim.injectFault({ status: 404, pathIncludes: '/R-101/appointments?date=2026-11-22' });
    const outcome = await r.refresh('R-101', '2026-11-22');
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/lists the resource: nothing revoked/) });
    expect(h.dbHash()).toBe(before);
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
  });

  it('a 404 for a resource we never had bookings for changes nothing', async () => {
    h = await new Harness({
      resources: [
        { id: 'R-101', doors: ['door-orion'] },
        { id: 'R-404', doors: ['door-lobby'] },
      ],
      notAtPlatform: ['R-404'],
      start: false,
    }).init();
    const r = reconciler(['R-101', 'R-404'], { hostZone: 'UTC' });
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-101', start: at('2026-11-22T11:00:00Z'), end: at('2026-11-22T12:00:00Z'), organizer: ana });
    expect(await r.reconcile()).toMatchObject({ resources: 2, appointments: 1, failed: 0 });
    const before = h.dbHash();
    expect(await r.refresh('R-404', '2026-11-22')).toEqual({ ok: true, result: { appointments: 0, changed: 0 } });
    expect(await r.reconcile(['R-404'])).toMatchObject({ appointments: 0, changed: 0, failed: 0 });
    expect(h.dbHash()).toBe(before);
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
  });

  it('5xx and 429 on a daily list still delete nothing', async () => {
    const { r, before } = await bookedAndSwept();
    for (const status of [500, 503, 429]) {
      h.sim.injectFault({ status, pathIncludes: '/R-101/appointments?date=2026-11-22' });
      expect(await r.refresh('R-101', '2026-11-22')).toMatchObject({ ok: false });
      expect(h.dbHash()).toBe(before);
      await stepClock(600_000, r); // past the backoff; the queued retry fetches the real list
    }
    expect(h.decide('1001', 'door-orion', '2026-11-22T11:30:00Z')).toBe('granted');
  });
});

describe('first sweep, zone not known yet', () => {
  it('fetches the resource\'s own yesterday/today/tomorrow: Auckland\'s tomorrow on the first sweep', async () => {
    h = new Harness({ resources: [{ id: 'R-AKL', doors: ['door-orion'] }], zones: { 'R-AKL': 'Pacific/Auckland' }, start: false });
    h.clock.advance(2 * 3_600_000); // 12:00Z on the 22nd: 01:00 on the 23rd in Auckland (UTC+13)
    await h.init();
    h.giveCard('ana@example.com', '1001');
    // 10:00–11:00 on the 24th in Auckland: its "tomorrow", while the 22nd in UTC.
    h.sim.createAppointment({ resourceId: 'R-AKL', start: at('2026-11-23T21:00:00Z'), end: at('2026-11-23T22:00:00Z'), organizer: ana });
    await h.sync.start();
    await h.settle();
    expect(h.decide('1001', 'door-orion', '2026-11-23T21:30:00Z')).toBe('granted');
    // The code's own host zone (UTC in CI): one probe on the host's today, then the rest, once each.
    const probe = localDateOf(h.clock.now(), hostTimeZone());
    const dates = fetchedDates('R-AKL');
    expect(dates[0]).toBe(probe);
    expect(new Set(dates).size).toBe(dates.length);
    expect([...new Set([...dates, probe])].sort()).toEqual([...new Set(['2026-11-22', '2026-11-23', '2026-11-24', probe])].sort());
    expect(h.sync.status().lastReconcile).toMatchObject({ resources: 1, appointments: 1, failed: 0 });
  });

  it('host zone parameter: host Los Angeles, resource in Kiritimati (UTC+14)', async () => {
    h = await new Harness({ resources: [{ id: 'R-KIR', doors: ['door-orion'] }], zones: { 'R-KIR': 'Pacific/Kiritimati' }, start: false }).init();
    h.clock.advance(2 * 3_600_000); // 12:00Z: 04:00 on the 22nd in LA, 02:00 on the 23rd in Kiritimati
    const r = reconciler(['R-KIR'], { hostZone: 'America/Los_Angeles' });
    h.giveCard('ana@example.com', '1001');
    h.sim.createAppointment({ resourceId: 'R-KIR', start: at('2026-11-23T20:00:00Z'), end: at('2026-11-23T21:00:00Z'), organizer: ana });
    expect(await r.reconcile()).toMatchObject({ resources: 1, appointments: 1, failed: 0 });
    // Host-zone dates would have been 21–23: the 24th (Kiritimati's tomorrow) would be missed.
    expect(fetchedDates('R-KIR')[0]).toBe('2026-11-22');
    expect(fetchedDates('R-KIR').sort()).toEqual(['2026-11-22', '2026-11-23', '2026-11-24']);
    expect(h.decide('1001', 'door-orion', '2026-11-23T20:30:00Z')).toBe('granted');
    // From now on the stored zone decides: no probe.
    await r.reconcile();
    expect(fetchedDates('R-KIR').slice(3).sort()).toEqual(['2026-11-22', '2026-11-23', '2026-11-24']);
  });

  it('an outage on the first sweep counts three failed fetches per resource, as before, and recovers', async () => {
    h = new Harness({ start: false });
    h.sim.outage = true;
    await h.init();
    const r = reconciler(['R-101', 'R-102'], { hostZone: 'UTC' });
    expect(await r.reconcile()).toMatchObject({ resources: 2, failed: 6 });
    h.sim.outage = false;
    await stepClock(5_000, r);
    expect(await r.reconcile()).toMatchObject({ failed: 0 });
    const zones = h.store.db.prepare('SELECT resource_id, time_zone FROM upstream_resource_zones ORDER BY resource_id').all();
    expect(zones).toEqual([
      { resource_id: 'R-101', time_zone: 'Europe/Amsterdam' },
      { resource_id: 'R-102', time_zone: 'Europe/Amsterdam' },
    ]);
  });

  it('keeps 16 fetches in flight while probes queue the remaining dates', async () => {
    let inFlight = 0;
    let most = 0;
    const counting: typeof fetch = async (input, init) => {
      const path = String(input);
      if (!path.includes('/appointments')) return fetch(input, init);
      most = Math.max(most, ++inFlight);
      try {
        return await fetch(input, init);
      } finally {
        inFlight--;
      }
    };
    const resources = Array.from({ length: 40 }, (_, i) => ({ id: `R-${200 + i}`, doors: ['door-orion'] }));
    h = await new Harness({ resources, zones: Object.fromEntries(resources.map((x) => [x.id, 'Pacific/Auckland'])), fetch: counting, start: false }).init();
    const r = reconciler(resources.map((x) => x.id), { hostZone: 'UTC' });
    // 10:00Z on the 22nd is the 22nd in UTC and 23:00 on the 22nd in Auckland: 21–23 either way.
    expect(await r.reconcile()).toMatchObject({ resources: 40, failed: 0 });
    expect(most).toBe(16);
    expect(h.sim.requestCount('/appointments')).toBe(120);
  });
});
