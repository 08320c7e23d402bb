/**
 * The provisioning API under load, measured on the real `lintel run` (issue 12): a bulk of
 * 100,000 people with a card each, then 10,000 plan subscriptions and 5,000 single person PUTs
 * over HTTP, while a reader swipes a granted card every 20 ms and a subscriber times each
 * swipe → pulse command. The same swipes run first on an idle gateway: the ratio is the figure.
 *
 *   npm run build && node dist/bench/provisioning-api.js [people=100000] [subscriptions=10000]
 */
import { spawn, spawnSync } from 'node:child_process';
import { ResilienceSite } from '../test/helpers/resilience-site.js';
import { swipeSeries } from '../test/helpers/swipe-meter.js';
import { CLI } from '../test/helpers/lintel-process.js';

const PEOPLE = Number(process.argv[2] ?? 100_000);
const SUBSCRIPTIONS = Number(process.argv[3] ?? 10_000);
const SINGLE_PUTS = 5_000;
const SWIPE_EVERY_MS = 20;
const LOAD = new URL('./provisioning-load.js', import.meta.url).pathname;

function p(latencies: number[], q: number): number {
  const ok = latencies.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return ok[Math.min(ok.length - 1, Math.floor(q * ok.length))] ?? NaN;
}

/** One load phase in its own process (provisioning-load.ts); resolves with its figures. */
function load(base: string, token: string, phase: string, count: number): Promise<{ ms: number; perSec: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD, base, token, phase, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { ms: number; perSec: number }) : reject(new Error(`${phase} load exited ${code}`))));
  });
}

/** Swipes while `work` runs; returns the work's result and the swipe latencies (ms). */
async function whileSwiping<T>(site: ResilienceSite, work: () => Promise<T>): Promise<{ result: T; latencies: number[] }> {
  let done = false;
  const swiping = (async () => {
    const samples: number[] = [];
    while (!done) samples.push(...(await swipeSeries(site, 0, '4242', { everyMs: SWIPE_EVERY_MS, untilMs: Date.now() + 1000 })).latencies());
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

  // 15 s: the meter reads whole milliseconds, and a p99 needs a few hundred samples to mean anything.
  const idle = await swipeSeries(site, 0, '4242', { everyMs: SWIPE_EVERY_MS, untilMs: Date.now() + 15_000 });
  const idleP99 = p(idle.latencies(), 0.99);

  const bulk = await whileSwiping(site, () => load(base, token, 'bulk', PEOPLE));
  const subs = await whileSwiping(site, () => load(base, token, 'subscriptions', SUBSCRIPTIONS));
  const puts = await whileSwiping(site, () => load(base, token, 'puts', SINGLE_PUTS));

  const line = (name: string, lat: number[]) => `${name.padEnd(34)} swipe→pulse p50 ${p(lat, 0.5).toFixed(1)} ms  p99 ${p(lat, 0.99).toFixed(1)} ms  (${(p(lat, 0.99) / idleP99).toFixed(2)}× idle p99, n=${lat.length})`;
  console.log(`provisioning API bench — ${PEOPLE} people in bulk, ${SUBSCRIPTIONS} subscriptions, ${SINGLE_PUTS} single PUTs, 8 in flight, load from its own process`);
  console.log(line('idle', idle.latencies()));
  console.log(`bulk: ${PEOPLE} people + cards in ${(bulk.result.ms / 1000).toFixed(2)} s = ${Math.round(bulk.result.perSec)} people/s (target ≥ 20000)`);
  console.log(line('  during bulk', bulk.latencies));
  console.log(`subscriptions: ${Math.round(subs.result.perSec)} PUT/s`);
  console.log(line('  during subscription PUTs', subs.latencies));
  console.log(`single person PUTs: ${Math.round(puts.result.perSec)} PUT/s (target ≥ 1000)`);
  console.log(line('  during single PUTs', puts.latencies));
} finally {
  await site.close();
}
