import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { failingBesideDoors, fetchStatus, waitFor } from '../helpers/lintel-process.js';
import { budgetMs, reportFigures } from '../helpers/resilience-profile.js';
import { ResilienceSite } from '../helpers/resilience-site.js';
import { cardsCsv } from '../helpers/site-config.js';
import { mountSmallFs, type SmallFs } from '../helpers/store-faults.js';
import { swipeSeries } from '../helpers/swipe-meter.js';

/*
 * Store fault of the file system under a running gateway: the data dir's disk fills up. Not
 * fatal once running: doors keep deciding from memory, audit rows wait in a bounded queue,
 * the status shows the fault, and once the disk has room again the queued rows are written.
 * The data dir is a small tmpfs. (A read-only data dir is a start fault: the kernel refuses to
 * remount a file system read-only while the gateway holds the database open for writing; see
 * store-start-faults.test.ts.)
 */

const CARD = '42000001';
const SWIPE_MS = 6000;

async function siteOnSmallFs(): Promise<{ site: ResilienceSite; fs: SmallFs }> {
  const site = await ResilienceSite.create({ readers: 1, logLevel: 'warn' });
  const fs = mountSmallFs(join(site.dir, 'data'), 8);
  const r = await site.importCards(cardsCsv([{ email: 'disk@example.com', card: CARD, doors: ['door-1'] }]), 'cards');
  expect(r.code, r.stderr).toBe(0);
  await site.start();
  return { site, fs };
}

describe('resilience: store — disk faults while running', () => {
  let site: ResilienceSite | null = null;
  let fs: SmallFs | null = null;

  afterEach(async () => {
    await site?.gateway?.stop();
    site?.probe().close();
    fs?.unmount();
    await site?.close();
    site = null;
    fs = null;
  });

  async function faultThenRecover(name: string, inject: (f: SmallFs) => void, recover: (f: SmallFs) => void): Promise<void> {
    ({ site, fs } = await siteOnSmallFs());
    const s = site;
    const auditBefore = s.probe().maxAuditId();
    s.probe().close(); // the probe's connection must not keep the WAL from moving on
    inject(fs);
    const series = await swipeSeries(s, 0, CARD, { everyMs: 20, untilMs: Date.now() + SWIPE_MS });
    const during = await fetchStatus(s.httpPort, 3000);
    const errorsLogged = s.gateway!.logs().filter((l) => (l.level as number) >= 50).length;
    expect(s.gateway!.alive(), 'gateway still running').toBe(true);
    expect(series.arrivedAt.filter((t) => !Number.isFinite(t)).length, 'swipes without an unlock').toBe(0);
    expect(during, 'status answered during the fault').not.toBeNull();
    const failing = failingBesideDoors(during!);

    recover(fs);
    const probe = s.probe();
    const rows = await waitFor(
      'queued audit rows written after recovery',
      () => {
        const r = probe.auditAfter(auditBefore).filter((x) => x.reader_id === 'reader-1');
        return r.length >= series.sentAt.length ? r : undefined;
      },
      15_000,
      200,
    ).catch(() => probe.auditAfter(auditBefore).filter((x) => x.reader_id === 'reader-1'));
    reportFigures(name, { swipes: series.sentAt.length, errorLogLines: errorsLogged, auditRowsAfterRecovery: rows.length, failingChecks: failing });
    expect(failing.length, `a failing check shows the fault: ${JSON.stringify(during!.checks)}`).toBeGreaterThan(0);
    expect(rows.length, 'audit rows for the swipes made during the fault').toBe(series.sentAt.length);
    expect(probe.integrity()).toBe('ok');
  }

  it(
    'a full disk: doors keep deciding, audit rows are queued and written when there is room again',
    async () => {
      await faultThenRecover('store-disk-full', (f) => void f.fill(), (f) => f.free());
    },
    budgetMs(SWIPE_MS + 20_000),
  );
});
