import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { RenewalTimer } from '../../src/upstream/renewal-timer.js';
import { brokenLifetimePromise, MAX_RENEW_BEFORE_SEC, plannedExpiry, PROMISE_SKEW_MS } from '../../src/upstream/subscription-lifetime.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { Harness } from './harness.js';

/**
 * Issue 9 #11: renewal runs on its own timer from `expiresAt`, not on reconcile sweeps. Real
 * loopback HTTP to the simulated platform; only time is fake.
 */

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const ana = { email: 'ana@example.com', name: 'Ana' };

/** A pino logger whose lines the test can read. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { out.push(chunk.toString()); cb(); } });
  const logger = createLogger('info', sink as unknown as Parameters<typeof createLogger>[1]);
  return { logger, lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('subscription renewal (issue 9 #11)', () => {
  it('100 s subscriptions, renewBeforeSec 60, sweeps every 120 s: never a moment without a live subscription', async () => {
    const log = recordingLogger();
    h = await new Harness({ subscriptionTtlMs: 100_000, upstream: { renewBeforeSec: 60, reconcileIntervalSec: 120 }, logger: log.logger }).init();
    const mapped = h.resources.map((r) => r.id).sort();
    const gaps: number[] = [];
    let created = 0;
    let lastAccepted = h.sync.status().callbacks.accepted;
    // Ten lifetimes, second by second.
    for (let s = 1; s <= 1000; s++) {
      await h.advance(1000);
      const known = new Set(h.sync.status().subscriptions.map((x) => x.id));
      // Live at the platform, covering every mapped resource, and one whose callbacks this gateway verifies.
      const covering = h.sim.liveSubscriptions().filter((x) => known.has(x.subscriptionId) && mapped.every((id) => x.resourceIds.includes(id)));
      if (covering.length === 0) gaps.push(s);
      if (s % 10 === 0) {
        // And callbacks really arrive: a booking made now is delivered and accepted now.
        const start = h.clock.now() + 3_600_000;
        h.sim.createAppointment({ resourceId: 'R-101', start, end: start + 1_800_000, organizer: ana });
        created += 1;
        await h.settle();
        const accepted = h.sync.status().callbacks.accepted;
        if (accepted !== lastAccepted + 1) gaps.push(-s);
        lastAccepted = accepted;
      }
    }
    expect(gaps).toEqual([]);
    expect(created).toBe(100);
    // Renewed at half of each 100 s life (renewBeforeSec 60 is more than half): ~20 creates, not one per check.
    const creates = h.sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/subscriptions')).length;
    expect(creates).toBeGreaterThanOrEqual(19);
    expect(creates).toBeLessThanOrEqual(22);
    // The clamp is not silent.
    const warned = log.lines().filter((l) => typeof l.msg === 'string' && l.msg.includes('renewBeforeSec'));
    expect(warned.length).toBeGreaterThan(0);
    expect(warned[0]).toMatchObject({ lifetimeSec: 100, renewBeforeSec: 60, renewAtSec: 50 });
  });

  it('a failed renewal is retried on its own timer, well before the next sweep and before expiry', async () => {
    h = await new Harness({ subscriptionTtlMs: 100_000, upstream: { renewBeforeSec: 60, reconcileIntervalSec: 600 } }).init();
    const first = h.sim.liveSubscriptions()[0]!.subscriptionId;
    // The renewal at 50 s meets a 503 twice; the retries (1 s, 2 s backoff) must win before 100 s.
    h.sim.injectFault({ status: 503, pathIncludes: '/subscriptions', count: 2 });
    let renewedAt: number | null = null;
    for (let s = 1; s <= 99 && renewedAt === null; s++) {
      await h.advance(1000);
      if (h.sim.liveSubscriptions().some((x) => x.subscriptionId !== first)) renewedAt = s;
    }
    expect(renewedAt).not.toBeNull();
    expect(renewedAt!).toBeGreaterThanOrEqual(50);
    expect(renewedAt!).toBeLessThan(60);
    const posts = h.sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/subscriptions'));
    expect(posts.map((r) => r.status)).toEqual([201, 503, 503, 201]);
  });

  it('the config refuses a renewBeforeSec that would be cut even on a subscription of the full 7 days', () => {
    const base = {
      site: { id: 'hq' },
      doors: [{ id: 'front' }],
      upstream: { baseUrl: 'https://b.example', token: 't', callbackUrl: 'https://g.example/webhooks/offision' },
    };
    const ok = configSchema.safeParse({ ...base, upstream: { ...base.upstream, renewBeforeSec: MAX_RENEW_BEFORE_SEC } });
    expect(ok.success).toBe(true);
    expect(MAX_RENEW_BEFORE_SEC).toBe(302_400); // 3.5 days
    const tooLong = configSchema.safeParse({ ...base, upstream: { ...base.upstream, renewBeforeSec: MAX_RENEW_BEFORE_SEC + 1 } });
    expect(tooLong.success).toBe(false);
    expect(tooLong.error?.issues.map((i) => i.path.join('.'))).toContain('upstream.renewBeforeSec');
  });
});

describe('RenewalTimer', () => {
  it('keeps renewing through failed runs and a failure to plan, counting each', async () => {
    const clock = new FakeClock(0);
    const failed: string[] = [];
    const runs: number[] = [];
    let expiresAt = 100_000;
    let planFailures = 1;
    let runFailures = 2;
    const timer = new RenewalTimer({
      clock,
      logger: silentLogger,
      countFailure: (task) => void failed.push(task),
      ensure: async () => {
        runs.push(clock.now());
        if (runFailures-- > 0) throw new Error('503');
        expiresAt = clock.now() + 100_000;
      },
      dueAt: () => {
        if (planFailures-- > 0) throw new Error('SQLITE_BUSY');
        return expiresAt - 50_000;
      },
      needed: () => true,
      blockedUntil: () => 0,
    });
    const flush = async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); };
    timer.settled(true); // planning throws: retried ~1 s later
    expect(failed).toEqual(['subscription-renewal']);
    for (let s = 0; s < 200; s++) {
      clock.advance(1000);
      await flush();
    }
    timer.stop();
    // First run ~1 s (after the planning failure), two failed runs retried ~1 s and ~2 s later, then every 50 s.
    expect(runs.length).toBeGreaterThanOrEqual(6);
    expect(failed).toEqual(['subscription-renewal', 'subscription-renewal', 'subscription-renewal']);
    const gaps = runs.slice(3).map((t, i) => t - runs[i + 2]!);
    expect(gaps.every((g) => g === 50_000)).toBe(true);
  });
});

describe('a promised lifetime past the 7-day limit (the demo warned at every start)', () => {
  const SEVEN_DAYS = 7 * 86_400_000;
  const sent = Date.parse('2026-12-02T07:00:00Z');

  it('is planned as send + 7 days, and reported only when it lies more than the skew past that', () => {
    // The platform counts its 7 days from its own creation instant, a few ms after our send.
    expect(plannedExpiry(sent + SEVEN_DAYS + 12, sent)).toBe(sent + SEVEN_DAYS);
    expect(brokenLifetimePromise(sent + SEVEN_DAYS + 12, sent)).toBe(false);
    expect(brokenLifetimePromise(sent + SEVEN_DAYS + PROMISE_SKEW_MS, sent)).toBe(false);
    expect(brokenLifetimePromise(sent + SEVEN_DAYS + 2 * 3_600_000, sent)).toBe(true);
    expect(brokenLifetimePromise(Number.NaN, sent)).toBe(true);
    expect(brokenLifetimePromise(sent + 3_600_000, sent)).toBe(false);
  });
});
