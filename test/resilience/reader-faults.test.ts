import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStatus, rssMb, sleep, waitFor } from '../helpers/lintel-process.js';
import { budgetMs, profile, reportFigures } from '../helpers/resilience-profile.js';
import { ResilienceSite } from '../helpers/resilience-site.js';
import { cardsCsv } from '../helpers/site-config.js';

/*
 * Reader faults, on real ptys: a USB-serial reader unplugged and plugged back (socat ends and
 * a new one takes the same path), line noise, binary bursts and a reader that sends 10,000
 * lines a second. The process stays up, its memory stays bounded, the other reader keeps
 * deciding, and a valid card is decided on the faulty reader once the fault is over.
 */

const CARD = '44000001';

describe('resilience: reader faults', () => {
  let site: ResilienceSite;

  beforeAll(async () => {
    // The card-guess lock (issue 9 #9) is kept at its default threshold but released after 2 s,
    // so a reader that met noise is shown to recover within the test.
    site = await ResilienceSite.create({
      readers: 2,
      logLevel: 'warn',
      configure: (o) => ({ ...o, extra: { ...o.extra, bruteForce: { cards: { maxFailures: 10, windowSec: 10, lockoutSec: 2 } } } }),
    });
    const r = await site.importCards(cardsCsv([{ email: 'reader@example.com', card: CARD, doors: ['door-1'] }]), 'cards');
    expect(r.code, r.stderr).toBe(0);
    await site.start();
  }, 60_000);

  afterAll(async () => {
    await site?.close();
  });

  /** The decision for one swipe of CARD on `reader`, from the audit log. */
  async function decide(reader: number, ms = 10_000): Promise<{ result: string; reason: string }> {
    const probe = site.probe();
    const before = probe.maxAuditId();
    site.swipe(reader, CARD);
    const row = await waitFor('audit row for the swipe', () => probe.auditAfter(before).find((r) => r.reader_id === site.readers[reader]!.id), ms, 50);
    return { result: row.result, reason: row.reason };
  }

  /** Waits until the gateway has read everything a reader sent (its line counter stops moving). */
  async function drained(reader: number): Promise<void> {
    let last = -1;
    await waitFor(
      'reader drained',
      async () => {
        const lines = (await fetchStatus(site.httpPort, 3000))?.readers[reader]?.lines ?? -2;
        const stable = lines === last;
        last = lines;
        return stable ? true : undefined;
      },
      30_000,
      500,
    );
  }

  it(`unplug and replug ${profile.replugs} times: it reconnects and decides, the other reader never stops`, async () => {
    for (let i = 0; i < profile.replugs; i++) {
      const before = (await fetchStatus(site.httpPort))!.readers[0]!.reconnects;
      await site.unplug(0);
      await waitFor('reader shown disconnected', async () => ((await fetchStatus(site.httpPort))?.readers[0]?.connected === false ? true : undefined), 10_000);
      expect(await decide(1), 'the other reader while one is unplugged').toEqual({ result: 'granted', reason: 'granted' });
      await site.plug(0);
      await waitFor('reader reconnected', async () => {
        const r = (await fetchStatus(site.httpPort))?.readers[0];
        return r?.connected && r.reconnects > before ? true : undefined;
      }, 15_000);
      expect(await decide(0), `after replug ${i + 1}`).toEqual({ result: 'granted', reason: 'granted' });
    }
    expect(site.gateway!.alive()).toBe(true);
  }, budgetMs(profile.replugs * 4000));

  it('line noise and binary bursts: nothing but denials, then a valid card is granted', async () => {
    const noise: string[] = [];
    for (let i = 0; i < 500; i++) {
      const kind = i % 5;
      if (kind === 0) noise.push('x'.repeat(300 + (i % 700))); // longer than maxLineLength
      else if (kind === 1) noise.push('\r\r\n\n\r');
      else if (kind === 2) noise.push(`${'9'.repeat(1 + (i % 40))}\t;--${i}`);
      else if (kind === 3) noise.push('\u00ff\u00fe\u0000\u001b[2J');
      else noise.push(`W26:${i.toString(2)}`);
    }
    const commandsBefore = site.commands.length;
    const auditBefore = site.probe().maxAuditId();
    site.write(0, noise.join('\r\n') + '\r\n');
    for (let i = 0; i < 20; i++) site.write(0, randomBytes(4096));
    site.write(0, '\r\n');
    await drained(0);
    expect(site.gateway!.alive()).toBe(true);
    expect(site.commands.length, 'no noise opened a door').toBe(commandsBefore);
    const rows = site.probe().auditAfter(auditBefore);
    expect(rows.filter((r) => r.result !== 'denied'), 'noise decided as anything but a denial').toEqual([]);
    // Noise counts as failed reads: the reader is locked (rate_limited) for lockoutSec, then a valid card opens.
    const right = await decide(0);
    expect(['granted', 'rate_limited'], JSON.stringify(right)).toContain(right.reason);
    if (right.reason === 'rate_limited') {
      await sleep(2500);
      expect(await decide(0), 'a valid card once the lock is over').toEqual({ result: 'granted', reason: 'granted' });
    }
  }, 60_000);

  it(`${profile.floodLinesPerSec} lines/s for ${profile.floodSeconds} s: up, memory bounded, a valid card decided after`, async () => {
    const pid = site.gateway!.child.pid!;
    const probe = site.probe();
    const auditBefore = probe.maxAuditId();
    const rssBefore = (await rssMb(pid))!;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => void rssMb(pid).then((m) => (rssPeak = Math.max(rssPeak, m ?? 0))), 200);
    let sent = 0;
    const start = Date.now();
    const end = start + profile.floodSeconds * 1000;
    while (Date.now() < end) {
      // Catch up to the schedule each tick, so a slow tick does not lower the rate.
      const due = Math.min(profile.floodSeconds * profile.floodLinesPerSec, Math.floor(((Date.now() - start) / 1000) * profile.floodLinesPerSec));
      const chunk: string[] = [];
      for (; sent < due; sent++) chunk.push(String(50_000_000 + (sent % 9_000_000)));
      if (chunk.length > 0) site.write(0, chunk.join('\r\n') + '\r\n');
      await sleep(10);
    }
    const control = await decide(1);
    await drained(0);
    clearInterval(sampler);
    const status = (await fetchStatus(site.httpPort))!;
    const flooded = await decide(0, 15_000);
    const auditRows = probe.auditAfter(auditBefore).length;
    reportFigures('reader-flood', {
      linesSent: sent,
      linesRead: status.readers[0]!.lines,
      rssBeforeMb: Math.round(rssBefore),
      rssPeakMb: Math.round(rssPeak),
      auditRowsWritten: auditRows,
      floodedReaderDecision: flooded,
    });
    expect(site.gateway!.alive()).toBe(true);
    expect(control, 'the other reader during the flood').toEqual({ result: 'granted', reason: 'granted' });
    expect(rssPeak - rssBefore, 'RSS growth during the flood (MB)').toBeLessThan(150);
    // A valid card on the flooded reader is decided: granted, or refused only by the guess
    // throttle that the flood of unknown cards has rightly tripped (issue 9, finding 9).
    expect(flooded.result === 'granted' || !['unknown_credential', 'malformed_read', 'bad_parity'].includes(flooded.reason), JSON.stringify(flooded)).toBe(true);
  }, budgetMs(profile.floodSeconds * 1000 + 30_000));
});
