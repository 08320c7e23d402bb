import { Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { latencyFromRegistry } from '../../src/http/console/latency-histogram.js';
import { consoleSite } from './console-fixture-site.js';

/* The sections fed by other parts: door alarms (with their acknowledge form) and the latency histogram. */

let site: ReturnType<typeof consoleSite>;
afterEach(() => site?.close());

const doorAlarm = { id: 'front:forced_open:1764752400000', door: 'front', kind: 'forced_open' as const, raisedAt: Date.parse('2026-12-03T08:58:00Z'), acknowledgedAt: null, acknowledgedBy: null, clearedAt: null, detail: 'opened without a grant' };

describe('the alarms section', () => {
  it('lists a door alarm for everyone, with an acknowledge form for an operator that posts the alarm id', async () => {
    site = consoleSite({ alarms: [doorAlarm, { kind: 'reader_locked', readerId: 'desk', until: Date.parse('2026-12-03T09:05:00Z'), detail: 'too many unknown cards' }] });
    const anon = await (await site.make(null).app.request('/')).text();
    expect(anon).toContain('forced open');
    expect(anon).toContain('since 2026-12-03 09:58:00');
    expect(anon).toContain('until 2026-12-03 10:05:00');
    expect(anon).not.toContain('/actions/alarm.acknowledge');
    const { app } = site.make({ name: 'olga', role: 'operator' });
    const html = await (await app.request('/')).text();
    expect(html).toContain(`<input type="hidden" name="alarm" value="${doorAlarm.id}"/>`);
    const res = await app.request('/actions/alarm.acknowledge', { method: 'POST', body: new URLSearchParams({ _csrf: 'tok-1', alarm: doorAlarm.id }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(303);
    expect(site.actions.runs.map((r) => r.action)).toEqual([{ action: 'alarm.acknowledge', alarm: doorAlarm.id }]);
  });

  it('shows an acknowledged alarm with who acknowledged it and no button', async () => {
    site = consoleSite({ alarms: [{ ...doorAlarm, acknowledgedAt: Date.parse('2026-12-03T08:59:00Z'), acknowledgedBy: 'console:olga' }] });
    const html = await (await site.make({ name: 'olga', role: 'operator' }).app.request('/')).text();
    expect(html).toContain('acknowledged by console:olga at 2026-12-03 09:59:00');
    expect(html).not.toContain('/actions/alarm.acknowledge');
  });
});

describe('doors, readers and the platform', () => {
  it("show each door's last ack latency and hold, each reader's last read, and the platform's callbacks, sweep and subscriptions, in the site's zone", async () => {
    const at = (iso: string) => Date.parse(iso);
    site = consoleSite({
      upstream: {
        state: 'degraded', lastError: 'platform unreachable', lastSuccessAt: at('2026-12-03T08:30:00Z'), unknownResources: [],
        lastCallbackAt: at('2026-12-03T08:45:00Z'),
        lastReconcile: { at: at('2026-12-03T08:50:00Z'), durationMs: 812, changed: 3, failed: 1 },
        subscriptions: [{ id: 'sub-1', state: 'active', expiresAt: at('2026-12-04T08:00:00Z') }],
        detail: {},
      },
    });
    const html = await (await site.make({ name: 'olga', role: 'operator' }).app.request('/')).text();
    expect(html).toContain('<td>42 ms</td>');
    expect(html).toContain('by console:olga until 2026-12-03 11:00:00');
    expect(html).toContain('<td>2026-12-03 09:58:00</td>'); // the reader's last read
    expect(html).toContain('last callback 2026-12-03 09:45:00');
    expect(html).toContain('2026-12-03 09:50:00 (812 ms, 3 changes, 1 failed fetches)');
    expect(html).toContain('<td>sub-1</td><td>active</td><td>2026-12-04 09:00:00</td>');
    expect(html).toContain('deciding from the local cache');
  });
});

describe('the decision latency histogram', () => {
  it('turns the cumulative Prometheus buckets into per-bucket counts', async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'lintel_decision_latency_seconds', help: 'x', buckets: [0.0001, 0.001, 0.01], labelNames: ['result'], registers: [registry] });
    for (const v of [0.00005, 0.00005, 0.0005, 0.005, 0.5]) h.observe({ result: 'granted' }, v);
    h.observe({ result: 'denied' }, 0.0005);
    expect(await latencyFromRegistry(registry)()).toEqual([
      { le: 0.0001, count: 2 },
      { le: 0.001, count: 2 },
      { le: 0.01, count: 1 },
      { le: Infinity, count: 1 },
    ]);
    expect(await latencyFromRegistry(new Registry())()).toBeNull();
  });

  it('is drawn as one meter a bucket', async () => {
    site = consoleSite({ latency: [{ le: 0.0001, count: 3 }, { le: 0.001, count: 1 }, { le: Infinity, count: 0 }] });
    const html = await (await site.make(null).app.request('/')).text();
    expect(html).toContain('≤ 100 µs');
    expect(html).toContain('<meter min="0" max="3" value="3"></meter>');
    expect(html).toContain('≤ 1 ms');
  });
});
