/**
 * The provisioning API under load, measured on the real `lintel run` (issue 12): a bulk of
 * 100,000 people with a card each, then 10,000 plan subscriptions and 5,000 single person PUTs
 * over HTTP, while a reader swipes a granted card every 20 ms and a subscriber times each
 * swipe → pulse command. The same swipes run first on an idle gateway: the ratio is the figure.
 *
 *   npm run build && node dist/bench/provisioning-api.js [people=100000] [subscriptions=10000]
 */
import { spawnSync } from 'node:child_process';
import { ResilienceSite } from '../test/helpers/resilience-site.js';
import { swipeSeries } from '../test/helpers/swipe-meter.js';
import { CLI } from '../test/helpers/lintel-process.js';

const PEOPLE = Number(process.argv[2] ?? 100_000);
const SUBSCRIPTIONS = Number(process.argv[3] ?? 10_000);
const SINGLE_PUTS = 5_000;
const CONCURRENCY = 8;
const SWIPE_EVERY_MS = 20;

function p(latencies: number[], q: number): number {
  const ok = latencies.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return ok[Math.min(ok.length - 1, Math.floor(q * ok.length))] ?? NaN;
}

/** Runs `n` requests `CONCURRENCY` at a time; returns requests per second. */
async function pool(n: number, request: (i: number) => Promise<Response>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      const res = await request(next++);
      if (res.status >= 300) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return n / ((performance.now() - t0) / 1000);
}

/** Swipes while `work` runs; returns the work's result and the swipe latencies (ms). */
async function whileSwiping<T>(site: ResilienceSite, work: () => Promise<T>): Promise<{ result: T; latencies: number[] }> {
  let done = false;
  const untilMs = Date.now() + 3_600_000;
  const swiping = (async () => {
    const samples: number[] = [];
    while (!done) {
      const series = await swipeSeries(site, 0, '4242', { everyMs: SWIPE_EVERY_MS, untilMs: Math.min(untilMs, Date.now() + 1000) });
      samples.push(...series.latencies());
    }
    return samples;
  })();
  const result = await work();
  done = true;
  return { result, latencies: await swiping };
}

const site = await ResilienceSite.create({
  readers: 1,
  logLevel: 'warn',
  configure: (o) => ({ ...o, extra: { zones: { lobby: { doors: [o.doors[0]!.id] } }, accessGroups: { members: { zones: [{ zone: 'lobby' }] } } } }),
});
try {
  const imported = await site.importCards(`email,card,doors\nbench@example.com,4242,${site.doors[0]}\n`, 'bench.csv');
  if (imported.code !== 0) throw new Error(imported.stderr);
  await site.start();
  const made = spawnSync(process.execPath, [CLI, 'token', 'create', '--scope', 'write', '--name', 'bench', '--json', '-c', site.configFile], { encoding: 'utf8' });
  const { token } = JSON.parse(made.stdout) as { token: string };
  const base = `http://127.0.0.1:${site.httpPort}/api/v1`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const idle = await swipeSeries(site, 0, '4242', { everyMs: SWIPE_EVERY_MS, untilMs: Date.now() + 5000 });
  const idleP99 = p(idle.latencies(), 0.99);

  const lines: string[] = [];
  for (let i = 0; i < PEOPLE; i++) lines.push(JSON.stringify({ email: `p${i}@bench.example`, name: `Person ${i}`, groups: ['members'], cards: [{ number: String(1_000_000 + i) }] }));
  const ndjson = lines.join('\n');
  const bulk = await whileSwiping(site, async () => {
    const t0 = performance.now();
    const res = await fetch(`${base}/people:bulk`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-ndjson' }, body: ndjson });
    if (res.status !== 200) throw new Error(`bulk: HTTP ${res.status} ${await res.text()}`);
    return { ms: performance.now() - t0, bytes: ndjson.length };
  });

  const subs = await whileSwiping(site, () =>
    pool(SUBSCRIPTIONS, (i) =>
      fetch(`${base}/subscriptions/sub-${i}`, { method: 'PUT', headers, body: JSON.stringify({ email: `p${i}@bench.example`, groups: ['members'], startsAt: '2026-01-01T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' }) }),
    ),
  );
  const puts = await whileSwiping(site, () =>
    pool(SINGLE_PUTS, (i) => fetch(`${base}/people/single-${i}@bench.example`, { method: 'PUT', headers, body: JSON.stringify({ name: `Single ${i}`, groups: ['members'] }) })),
  );

  const line = (name: string, lat: number[]) => `${name.padEnd(34)} swipe→pulse p50 ${p(lat, 0.5).toFixed(1)} ms  p99 ${p(lat, 0.99).toFixed(1)} ms  (${(p(lat, 0.99) / idleP99).toFixed(2)}× idle p99, n=${lat.length})`;
  console.log(`provisioning API bench — ${PEOPLE} people in bulk, ${SUBSCRIPTIONS} subscriptions, ${SINGLE_PUTS} single PUTs, concurrency ${CONCURRENCY}`);
  console.log(line('idle', idle.latencies()));
  console.log(`bulk: ${PEOPLE} people + cards, ${(bulk.result.bytes / 1048576).toFixed(1)} MB NDJSON in ${(bulk.result.ms / 1000).toFixed(2)} s = ${Math.round(PEOPLE / (bulk.result.ms / 1000))} people/s (target ≥ 20000)`);
  console.log(line('  during bulk', bulk.latencies));
  console.log(`subscriptions: ${Math.round(subs.result)} PUT/s`);
  console.log(line('  during subscription PUTs', subs.latencies));
  console.log(`single person PUTs: ${Math.round(puts.result)} PUT/s (target ≥ 1000)`);
  console.log(line('  during single PUTs', puts.latencies));
} finally {
  await site.close();
}
