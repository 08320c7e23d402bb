import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStatus, percentile, sleep, waitFor, waitForUpstreamSettled } from '../helpers/lintel-process.js';
import { budgetMs, profile, reportFigures } from '../helpers/resilience-profile.js';
import { ResilienceSite } from '../helpers/resilience-site.js';
import { cardsCsv } from '../helpers/site-config.js';
import { UpstreamSite } from '../helpers/upstream-site.js';

/*
 * Crash loop: `kill -9` the built `lintel run` at random moments while badge reads, signed
 * booking callbacks and `lintel cards import` runs are in flight (and now and then while it is
 * still starting), then restart it and check what a site depends on after a power cut:
 * the file is intact, the running index is what SQLite says, nothing that was acknowledged
 * (an import that exited 0, a callback answered 2xx) is missing, no committed audit row is
 * lost or changed, and the gateway is ready again within a bound.
 */

const KILLS = profile.crashKills;
const READY_BOUND_MS = 15_000;
const BASE_PEOPLE = 120;

interface Card {
  card: string;
  door: string | null;
}

describe('resilience: crash loop (kill -9 under load)', () => {
  let site: ResilienceSite;
  let upstream: UpstreamSite;
  const known: Card[] = [];
  const ackedImports: Card[] = [];
  let importSeq = 0;

  beforeAll(async () => {
    upstream = await new UpstreamSite(['R-1']).start();
    site = await ResilienceSite.create({ readers: 2, doors: 2, logLevel: 'warn', configure: upstream.configure({ 'R-1': ['door-1'] }) });
    const rows = Array.from({ length: BASE_PEOPLE }, (_, i) => {
      const door = i % 3 === 0 ? null : site.doors[i % 2]!;
      known.push({ card: String(20_000_000 + i), door: i % 7 === 0 ? null : door });
      return { email: `p${i}@example.com`, card: String(20_000_000 + i), doors: door ? [door] : [], state: i % 7 === 0 ? ('disabled' as const) : ('active' as const) };
    });
    const imported = await site.importCards(cardsCsv(rows), 'base');
    expect(imported.code, imported.stderr).toBe(0);
    await site.start();
    await waitFor('platform subscription', () => (upstream.subscribed() ? true : undefined), 15_000);
    await waitForUpstreamSettled(site.httpPort);
  }, 60_000);

  afterAll(async () => {
    await site?.close();
    await upstream?.stop();
  });

  /** Reads, callbacks and imports until `stop` is set; returns the in-flight import to await. */
  function startLoad(): { stop: () => Promise<void> } {
    let running = true;
    const readTimer = setInterval(() => {
      const c = known[Math.floor(Math.random() * known.length)]!;
      site.swipe(Math.floor(Math.random() * site.readers.length), Math.random() < 0.2 ? String(90_000_000 + Math.floor(Math.random() * 1e6)) : c.card);
    }, 15);
    const bookTimer = setInterval(() => upstream.book('R-1', `p${Math.floor(Math.random() * BASE_PEOPLE)}@example.com`), 250);
    const imports = (async () => {
      while (running) {
        const n = ++importSeq;
        const batch = [0, 1, 2].map((k) => ({ email: `imp${n}-${k}@example.com`, card: String(30_000_000 + n * 10 + k), doors: [site.doors[k % 2]!] }));
        const r = await site.importCards(cardsCsv(batch), `imp${n}`);
        // Acknowledged = the CLI said done (exit 0); whatever else happened to the gateway meanwhile.
        if (r.code === 0) for (const b of batch) ackedImports.push({ card: b.card, door: b.doors[0]! });
      }
    })();
    return {
      stop: async () => {
        running = false;
        clearInterval(readTimer);
        clearInterval(bookTimer);
        await imports;
      },
    };
  }

  /** Until the readers' line counters stop moving (two polls 100 ms apart agree). */
  async function readersQuiet(): Promise<void> {
    let last = '';
    await waitFor(
      'readers quiet',
      async () => {
        const now = JSON.stringify((await fetchStatus(site.httpPort))?.readers.map((r) => r.lines + r.dropped.overlong + r.dropped.garbage));
        const quiet = now === last;
        last = now;
        return quiet ? true : undefined;
      },
      10_000,
      100,
    );
  }

  /** One read, typed into a pty, and the audit row it produced. */
  async function decisionFor(card: string, reader: number): Promise<{ result: string; reason: string }> {
    const probe = site.probe();
    const before = probe.maxAuditId();
    site.swipe(reader, card);
    const row = await waitFor('audit row for a sampled read', () => probe.auditAfter(before).find((r) => r.reader_id === site.readers[reader]!.id), 5000);
    return { result: row.result, reason: row.reason };
  }

  it(
    `survives ${KILLS} kill -9s with nothing acknowledged lost`,
    async () => {
      const readyMs: number[] = [];
      const problems: string[] = [];
      let auditChecked = 0;
      let sampled = 0;
      let kills = 0;
      for (let cycle = 1; kills < KILLS; cycle++) {
        const probe = site.probe();
        // Every 5th cycle, a second kill lands while the gateway is still starting (migrations, index load, connects).
        if (cycle % 5 === 0) {
          // The running one goes first (a kill while idle), then the new one while it starts.
          const seen = probe.maxAuditId();
          const digest = probe.auditDigest(seen);
          await site.gateway!.kill9();
          kills++;
          site.spawnOnly();
          await sleep(Math.random() * 400);
          await site.gateway!.kill9();
          kills++;
          expect(probe.auditDigest(seen), `cycle ${cycle} (during start): committed audit rows changed`).toEqual(digest);
        } else {
          const load = startLoad();
          const [lo, hi] = profile.crashUptimeMs;
          await sleep(lo + Math.random() * (hi - lo));
          const seen = probe.maxAuditId();
          const digest = probe.auditDigest(seen);
          await site.gateway!.kill9();
          kills++;
          await load.stop();
          expect(probe.auditDigest(seen), `cycle ${cycle}: committed audit rows lost or changed`).toEqual(digest);
          auditChecked += digest.rows;
        }

        const ready = await site.start({}, READY_BOUND_MS);
        readyMs.push(ready);

        expect(probe.integrity(), `cycle ${cycle}: integrity_check`).toBe('ok');
        const creds = probe.credentialNumbers();
        const missingImports = ackedImports.filter((c) => !creds.has(c.card));
        expect(missingImports.map((c) => c.card), `cycle ${cycle}: acknowledged imports missing`).toEqual([]);

        // Callbacks answered 2xx: their grants exist once the restarted gateway has caught up.
        await waitFor(
          'acknowledged bookings have grants',
          () => {
            const have = probe.bookingGrantSources();
            return [...upstream.acked].every((a) => have.has(a)) ? true : undefined;
          },
          15_000,
          100,
        ).catch(() => {
          const have = probe.bookingGrantSources();
          problems.push(`cycle ${cycle}: acknowledged bookings without grants: ${[...upstream.acked].filter((a) => !have.has(a)).join(', ')}`);
        });

        // The running index equals a rebuild from what is committed (no writer is active now).
        const compared = await waitFor(
          'running index equal to a rebuild from SQLite',
          async () => {
            const s = await fetchStatus(site.httpPort);
            const rebuilt = probe.rebuildIndex().stats();
            return s && JSON.stringify(s.index) === JSON.stringify(rebuilt) ? { running: s.index, rebuilt } : undefined;
          },
          5000,
          100,
        ).catch(async () => ({ running: (await fetchStatus(site.httpPort))?.index, rebuilt: probe.rebuildIndex().stats() }));
        expect(compared.running, `cycle ${cycle}: running index vs rebuild`).toEqual(compared.rebuilt);

        // Reads typed while it was down may still be in the pty and arrive first: let them drain.
        await readersQuiet();
        // And it decides as the rebuild does: a card an acknowledged import added, and one from the base list.
        const samples: Array<{ card: string; reader: number }> = [];
        const lastImport = ackedImports[ackedImports.length - 1];
        if (lastImport) samples.push({ card: lastImport.card, reader: site.readers.findIndex((r) => r.door === lastImport.door) });
        samples.push({ card: known[Math.floor(Math.random() * known.length)]!.card, reader: cycle % site.readers.length });
        for (const s of samples) {
          const want = probe.expectedDecision(s.card, site.readers[s.reader]!.door);
          const got = await decisionFor(s.card, s.reader);
          expect(got, `cycle ${cycle}: decision for a sampled card`).toEqual({ result: want.result, reason: want.reason });
          sampled++;
        }
      }
      reportFigures('crash-loop', {
        kills,
        restarts: readyMs.length,
        readyP50Ms: percentile(readyMs, 50),
        readyMaxMs: Math.max(...readyMs),
        ackedImports: ackedImports.length,
        ackedCallbacks: upstream.acked.size,
        auditRowsChecked: auditChecked,
        sampledDecisions: sampled,
      });
      expect(problems).toEqual([]);
      expect(Math.max(...readyMs)).toBeLessThan(READY_BOUND_MS);
      expect(kills).toBeGreaterThanOrEqual(KILLS);
    },
    budgetMs(KILLS * 3500),
  );
});
