import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStatus, percentile, rssMb, sleep, waitFor, waitForUpstreamSettled } from '../helpers/lintel-process.js';
import { budgetMs, profile, reportFigures } from '../helpers/resilience-profile.js';
import { ResilienceSite } from '../helpers/resilience-site.js';
import { cardsCsv } from '../helpers/site-config.js';
import { UpstreamSite } from '../helpers/upstream-site.js';

/*
 * Load: 500 badge reads/s across 20 readers (one door each) while the platform sends 200
 * signed callbacks/s, against the built process. Every read gets its decision, its unlock and
 * its audit row; every callback is answered 2xx; the process stays up. Swipe → publish
 * latency (pty write to the subscriber's receipt), audit rows and RSS are reported as figures,
 * not asserted: this runs on a shared CI box (BENCHMARKS.md has the controlled figures).
 */

const CARD = '47000001';
const POOL = 40;

describe('resilience: load', () => {
  let site: ResilienceSite;
  let upstream: UpstreamSite;
  const appointments: string[] = [];

  beforeAll(async () => {
    upstream = await new UpstreamSite(['R-1']).start();
    site = await ResilienceSite.create({ readers: profile.loadReaders, doors: profile.loadReaders, logLevel: 'warn', configure: upstream.configure({ 'R-1': ['door-1'] }) });
    const r = await site.importCards(cardsCsv([{ email: 'load@example.com', card: CARD, doors: site.doors }]), 'cards');
    expect(r.code, r.stderr).toBe(0);
    await site.start();
    await waitFor('platform subscription', () => (upstream.subscribed() ? true : undefined), 15_000);
    await waitForUpstreamSettled(site.httpPort);
    for (let i = 0; i < POOL; i++) appointments.push(upstream.book('R-1', `guest${i}@example.com`));
    await waitFor('pool bookings acknowledged', () => (upstream.acked.size >= POOL ? true : undefined), 15_000);
  }, 90_000);

  afterAll(async () => {
    await site?.close();
    await upstream?.stop();
  });

  it(`${profile.loadReadsPerSec} reads/s on ${profile.loadReaders} readers with ${profile.loadCallbacksPerSec} callbacks/s for ${profile.loadSeconds} s`, async () => {
    const pid = site.gateway!.child.pid!;
    const probe = site.probe();
    const auditBefore = probe.maxAuditId();
    const commandsBefore = site.commands.length;
    const deliveriesBefore = upstream.deliveries;
    const failuresBefore = upstream.failures;
    const sent: number[][] = site.readers.map(() => []);
    let rssPeak = 0;
    const sampler = setInterval(() => void rssMb(pid).then((m) => (rssPeak = Math.max(rssPeak, m ?? 0))), 250);
    const tickMs = 20;
    let reads = 0;
    let callbacks = 0;
    let reader = 0;
    const start = Date.now();
    const end = start + profile.loadSeconds * 1000;
    while (Date.now() < end) {
      // Catch up to the schedule, so a slow tick does not lower the rate.
      const due = Math.floor(((Date.now() - start) / 1000) * profile.loadReadsPerSec);
      for (; reads < due; reads++) {
        sent[reader]!.push(Date.now());
        site.swipe(reader, CARD);
        reader = (reader + 1) % site.readers.length;
      }
      const dueCb = Math.floor(((Date.now() - start) / 1000) * profile.loadCallbacksPerSec);
      for (; callbacks < dueCb; callbacks++) upstream.touch(appointments[callbacks % POOL]!, 5 + (callbacks % 20));
      await sleep(tickMs);
    }
    const elapsedS = (Date.now() - start) / 1000;
    await waitFor('an unlock for every read', () => (site.commands.length - commandsBefore >= reads ? true : undefined), 30_000, 100).catch(() => undefined);
    await waitFor('an audit row for every read', () => (probe.auditAfter(auditBefore).length >= reads ? true : undefined), 30_000, 200).catch(() => undefined);
    await upstream.sim.delivery.idle();
    clearInterval(sampler);

    const latencies: number[] = [];
    site.readers.forEach((r, i) => {
      const cmds = site.commands.slice(commandsBefore).filter((c) => c.door === r.door);
      sent[i]!.forEach((t, k) => {
        if (cmds[k]) latencies.push(cmds[k]!.at - t);
      });
    });
    const auditRows = probe.auditAfter(auditBefore);
    const status = await fetchStatus(site.httpPort);
    reportFigures('load', {
      seconds: Math.round(elapsedS * 10) / 10,
      reads,
      readsPerSec: Math.round(reads / elapsedS),
      callbacks,
      callbacksPerSec: Math.round(callbacks / elapsedS),
      callbackDeliveries: upstream.deliveries - deliveriesBefore,
      callbackFailures: upstream.failures - failuresBefore,
      unlocks: site.commands.length - commandsBefore,
      decisionsAudited: auditRows.length,
      swipeToPublishP50Ms: percentile(latencies, 50),
      swipeToPublishP99Ms: percentile(latencies, 99),
      swipeToPublishMaxMs: Math.max(...latencies),
      rssPeakMb: Math.round(rssPeak),
      upstream: status?.upstream?.state,
    });
    expect(site.gateway!.alive()).toBe(true);
    expect(site.commands.length - commandsBefore, 'an unlock for every read').toBe(reads);
    expect(auditRows.length, 'an audit row for every read').toBe(reads);
    expect(auditRows.every((r) => r.result === 'granted')).toBe(true);
    expect(upstream.failures - failuresBefore, 'callbacks not answered 2xx').toBe(0);
  }, budgetMs(profile.loadSeconds * 1000 + 40_000));
});
