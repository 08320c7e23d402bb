/**
 * The provisioning API under load, measured on the real `lintel run` (issue 12): a bulk of
 * 100,000 people with a card each, then 10,000 plan subscriptions and 5,000 single person PUTs
 * over HTTP, while a reader swipes a granted card every 20 ms and a subscriber times each
 * swipe → pulse command. The same swipes run first on an idle gateway: the ratio is the figure.
 *
 *   npm run build && node dist/bench/provisioning-api.js [people=100000] [subscriptions=10000]
 *
 * GATEWAY_NODE_ARGS (space-separated) go to the node of `lintel run`, e.g.
 * GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (written when the gateway exits).
 * Swipe times are performance.now() on both ends (sub-millisecond); each phase also prints the
 * gateway's CPU time (all its threads, /proc) and the 1-minute load average at its end.
 * REMOTE_NICE=N runs the API client's process N nice steps below the bench (it stands for the
 * platform, another machine; bench/hardening-procs.ts); default 0.
 */
import { spawnSync } from 'node:child_process';
import { REMOTE_NICE, spawnRemote } from './hardening-procs.js';
import { readFileSync } from 'node:fs';
import { ResilienceSite } from '../test/helpers/resilience-site.js';
import { swipeSeries } from '../test/helpers/swipe-meter.js';
import { CLI } from '../test/helpers/lintel-process.js';

const PEOPLE = Number(process.argv[2] ?? 100_000);
const SUBSCRIPTIONS = Number(process.argv[3] ?? 10_000);
const SINGLE_PUTS = 5_000;
const SWIPE_EVERY_MS = 20;
const LOAD = new URL('./provisioning-load.js', import.meta.url).pathname;
const GATEWAY_NODE_ARGS = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

/** CPU ms the process `pid` has used so far, every thread (utime + stime, /proc/PID/stat). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;

function p(latencies: number[], q: number): number {
  const ok = latencies.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return ok[Math.min(ok.length - 1, Math.floor(q * ok.length))] ?? NaN;
}

/** One load phase in its own process (provisioning-load.ts); resolves with its figures. */
function load(base: string, token: string, phase: string, count: number): Promise<{ ms: number; perSec: number }> {
  return new Promise((resolve, reject) => {
    const child = spawnRemote(process.execPath, [LOAD, base, token, phase, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
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
  nodeArgs: GATEWAY_NODE_ARGS,
  configure: (o) => ({ ...o, extra: { zones: { lobby: { doors: [o.doors[0]!.id] } }, accessGroups: { members: { zones: [{ zone: 'lobby' }] } } } }),
});
try {
  const imported = await site.importCards(`email,card,doors\nbench@example.com,4242,${site.doors[0]}\n`, 'bench.csv');
  if (imported.code !== 0) throw new Error(imported.stderr);
  await site.start();
  const made = spawnSync(process.execPath, [CLI, 'token', 'create', '--scope', 'write', '--name', 'bench', '--json', '-c', site.configFile], { encoding: 'utf8' });
  const { token } = JSON.parse(made.stdout) as { token: string };
  const base = `http://127.0.0.1:${site.httpPort}/api/v1`;

  const pid = site.gateway!.child.pid!;
  const cpu: string[] = [];
  const measured = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const before = cpuMs(pid);
    const t0 = performance.now();
    const out = await run();
    cpu.push(`${name} ${Math.round(cpuMs(pid) - before)} ms CPU in ${Math.round(performance.now() - t0)} ms (load ${loadavg()})`);
    return out;
  };

  // 15 s: a p99 needs a few hundred samples to mean anything.
  const idle = await measured('idle', () => swipeSeries(site, 0, '4242', { everyMs: SWIPE_EVERY_MS, untilMs: Date.now() + 15_000 }));
  const idleP99 = p(idle.latencies(), 0.99);

  const bulk = await measured('bulk', () => whileSwiping(site, () => load(base, token, 'bulk', PEOPLE)));
  const subs = await measured('subscriptions', () => whileSwiping(site, () => load(base, token, 'subscriptions', SUBSCRIPTIONS)));
  const puts = await measured('single PUTs', () => whileSwiping(site, () => load(base, token, 'puts', SINGLE_PUTS)));

  const line = (name: string, lat: number[]) => `${name.padEnd(34)} swipe→pulse p50 ${p(lat, 0.5).toFixed(1)} ms  p99 ${p(lat, 0.99).toFixed(1)} ms  (${(p(lat, 0.99) / idleP99).toFixed(2)}× idle p99, n=${lat.length})`;
  console.log(`provisioning API bench — ${PEOPLE} people in bulk, ${SUBSCRIPTIONS} subscriptions, ${SINGLE_PUTS} single PUTs, 8 in flight, load from its own process${REMOTE_NICE > 0 ? ` at nice +${REMOTE_NICE} (REMOTE_NICE)` : ' at the bench\'s priority'}`);
  console.log(line('idle', idle.latencies()));
  console.log(`bulk: ${PEOPLE} people + cards in ${(bulk.result.ms / 1000).toFixed(2)} s = ${Math.round(bulk.result.perSec)} people/s (target ≥ 20000)`);
  console.log(line('  during bulk', bulk.latencies));
  console.log(`subscriptions: ${Math.round(subs.result.perSec)} PUT/s`);
  console.log(line('  during subscription PUTs', subs.latencies));
  console.log(`single person PUTs: ${Math.round(puts.result.perSec)} PUT/s (target ≥ 1000)`);
  console.log(line('  during single PUTs', puts.latencies));
  console.log(`gateway CPU (all threads), wall time and 1-min load average per phase: ${cpu.join('; ')}`);
} finally {
  await site.close();
}
