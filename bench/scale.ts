/**
 * Issue 10's benchmark: the real `lintel run` at 1,000,000 cards and 1,000,000 grants, every
 * figure printed beside its target.
 *   1. the database is built by the product's own `lintel cards import` (time, peak RSS)
 *   2. `lintel run` starts on it: time until every health check is ok, RSS then and after 60 s idle
 *   3. open loop at READ_RATE (default 1,000) reads/s over 20 serial readers, each read a
 *      uniformly random card of the million: swipe → pulse p50/p99 (READS reads, default 1,000),
 *      the same against the bare path (bench/bare-path.ts: its own 20 ptys, the same CSV in its
 *      Map, the same broker) in blocks in ABBA order (BLOCKS pairs, default 4), the ratio, and each
 *      process's CPU per read (its threads' schedstat: all of them, and the main thread)
 *   4. a 1-row and a 20,000-row `cards import` by another process while reads go on at 100/s:
 *      swipe → pulse max, and the longest event-loop stall as seen from outside, the worst
 *      round trip of a /health request sent every 10 ms (a stalled loop answers nothing)
 *   5. a clean stop (SIGTERM: the index snapshot is written) and a second start on the same
 *      data: time until healthy and RSS, as a restarted gateway sees them
 * Not here (see BENCHMARKS.md): the reconcile at 1M (bench/reconcile.ts).
 *
 * Run: npm run build && node dist/bench/scale.js      Env: CARDS, READS, READ_RATE, IDLE_SEC,
 * BLOCKS, WARMUP, GATEWAY_NODE_ARGS (to the node of both `lintel run`s, e.g. "--cpu-prof --cpu-prof-dir=DIR").
 * With `--trace-gc-nvp` in GATEWAY_NODE_ARGS the bare path gets it too, and each path's main-thread
 * collections and bytes allocated over its own read blocks are printed per 10,000 reads.
 * KEEP_DIR=/path keeps the database and its CSV there (imported if missing, never removed), so a
 * later run skips step 1; E2E_ONLY=1 stops after step 3 (with IDLE_SEC=0: the e2e part alone).
 * Needs Mosquitto, socat and ~2 GB of memory; the temp dir is removed at exit.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startTestBroker } from '../test/helpers/broker.js';
import { startSocatPty, type SocatPty } from '../test/helpers/pty.js';
import { gcBetween, logSize, type GcSummary } from './gc-trace.js';
import { SITE, announceDoors, cardOf, doorId, fetchStatus, readerId, runCardImport, waitForHealthy, writeCardCsv, gatewayConfigLines, spawnGateway } from './hardening-data.js';
import { alive, ChildLines, memoryOf, onExit, sleep, spawnTracked, startDeadline, stopChild, threadCpuNsOf } from './hardening-procs.js';
import { SwipeDriver } from './hardening-swipes.js';
import { percentiles } from './stats.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const CARDS = env('CARDS', 1_000_000);
const READS = env('READS', 1000);
const READ_RATE = env('READ_RATE', 1000);
const IDLE_SEC = env('IDLE_SEC', 60);
const BLOCKS = env('BLOCKS', 4);
// Swipes per reader before measuring: at 20 (400 reads) the gateway's CPU a read was still ~1.7× its
// value after 100, the JIT not done with its larger code; the bare path's barely moved.
const WARMUP = env('WARMUP', 100);
const BARE = new URL('./bare-path.js', import.meta.url).pathname;
const BARE_SITE = 'bare';
const READERS = 20;
const COMMAND_TTL_MS = 2000;
const KEEP_DIR = process.env.KEEP_DIR;
const E2E_ONLY = process.env.E2E_ONLY === '1';
/** The GC flags of GATEWAY_NODE_ARGS, given to the bare path too so both are counted alike. */
const GC_ARGS = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a.startsWith('--trace-gc'));

startDeadline(env('DEADLINE_SEC', 900) * 1000);
const dir = mkdtempSync(join(tmpdir(), 'lintel-scale-'));
onExit(() => rmSync(dir, { recursive: true, force: true }));
const rows: [string, string, string][] = [];
const report = (what: string, figure: string, target: string) => {
  rows.push([what, figure, target]);
  console.log(`  ${what}: ${figure}   (target ${target})`);
};
const ms = (n: number) => `${n.toFixed(0)} ms`;
const mb = (n: number | null | undefined) => (n === null || n === undefined ? '?' : `${n.toFixed(0)} MB`);
const pass = (ok: boolean) => (ok ? '✅' : '❌');
console.log(`scale bench: ${CARDS.toLocaleString()} cards, load average ${loadavg()[0]!.toFixed(2)} at start`);

const tmpBefore = process.env.TMPDIR;
process.env.TMPDIR = dir; // the broker helper's own temp dir goes with ours
const broker = await startTestBroker();
if (tmpBefore === undefined) delete process.env.TMPDIR;
else process.env.TMPDIR = tmpBefore;
onExit(() => void broker.stop());
if (broker.kind !== 'mosquitto') throw new Error('mosquitto is not installed: this bench needs the real broker');
/** One socat pty pair per reader, named `prefix` + reader id. */
async function startPtys(prefix: string): Promise<SocatPty[]> {
  const made: SocatPty[] = [];
  for (let k = 0; k < READERS; k++) {
    const pty = await startSocatPty(dir, prefix + readerId(k));
    onExit(() => void pty.stop());
    made.push(pty);
  }
  return made;
}
const ptys = await startPtys('');
const barePtys = await startPtys('bare-');
const httpPort = await freePort();
const config = join(dir, 'lintel.yaml');
const dataRoot = KEEP_DIR ?? dir;
if (KEEP_DIR !== undefined) mkdirSync(KEEP_DIR, { recursive: true });
writeFileSync(config, [...gatewayConfigLines({ dataDir: join(dataRoot, 'data'), httpPort, brokerUrl: broker.url, readerPaths: ptys.map((p) => p.gatewaySide) }), ''].join('\n'));

// 1. The database through the product's import.
const baseCsv = join(dataRoot, `cards-base-${CARDS}.csv`);
if (KEEP_DIR !== undefined && existsSync(baseCsv) && existsSync(join(dataRoot, 'data', 'lintel.db'))) {
  console.log(`  cards import: skipped, the database of ${dataRoot} reused (KEEP_DIR)`);
} else {
  writeCardCsv(baseCsv, 0, CARDS, READERS);
  const base = await runCardImport(config, baseCsv, 600_000);
  if (base.code !== 0) throw new Error(`base import failed (${base.code}): ${base.output}`);
  report(`cards import of ${CARDS.toLocaleString()} rows`, `${(base.ms / 1000).toFixed(1)} s, peak ${mb(base.peakMb)}`, '≤ 10 s, < 500 MB ' + pass(base.ms <= 10_000 && (base.peakMb ?? Infinity) < 500));
}
// The bare path reads the same file into its Map, door k's reads on its pty k as the gateway's.
const bare = spawnTracked(process.execPath, [...GC_ARGS, BARE, baseCsv, broker.url, '5', BARE_SITE, ...barePtys.map((p, k) => `${doorId(k)}=${p.gatewaySide}`)], { stdio: ['ignore', 'pipe', 'inherit'] });
// Its stdout also goes to a file, where gc-trace.ts reads its collections as it reads the gateway's.
const bareLog = join(dir, 'bare.log');
writeFileSync(bareLog, '');
bare.stdout?.on('data', (b: Buffer) => appendFileSync(bareLog, b));
console.log(`  bare path: ${await new ChildLines(bare).next((l) => l.startsWith('ready'), 120_000, 'bare path start')}, RSS ${mb(memoryOf(bare.pid)?.rssMb)}`);
if (KEEP_DIR === undefined) rmSync(baseCsv);

// 2. The real process, its doors' controllers online on the broker.
await announceDoors(broker.url, ptys.map((_, k) => doorId(k)));
const startedAt = performance.now();
const gateway = spawnGateway(config, join(dir, 'gateway.log'));
await waitForHealthy(httpPort, 180_000, () => alive(gateway));
const readyMs = performance.now() - startedAt;
const readyRss = memoryOf(gateway.pid)?.rssMb;
report('lintel run: start → every health check ok', ms(readyMs), '≤ 3,000 ms ' + pass(readyMs <= 3000));
report('RSS after ready', mb(readyRss), '≤ 300 MB ' + pass((readyRss ?? Infinity) <= 300));

const perDoor = Math.floor(CARDS / READERS);
/** The doors' hardware for `site`'s readers on `ends`: each swipe a uniformly random card of the reader's door. */
async function connectDriver(site: string, ends: readonly SocatPty[]): Promise<SwipeDriver> {
  const readers = ends.map((p, k) => ({ doorId: doorId(k), devicePath: p.deviceSide, pickCard: () => cardOf(k + READERS * Math.floor(Math.random() * perDoor)) }));
  const made = await SwipeDriver.connect(broker.url, site, readers, COMMAND_TTL_MS);
  onExit(() => void made.close());
  return made;
}
const driver = await connectDriver(SITE, ptys);
const bareDriver = await connectDriver(BARE_SITE, barePtys);
await sleep(Math.max(0, IDLE_SEC * 1000 - (performance.now() - startedAt - readyMs)));
const idleRss = memoryOf(gateway.pid)?.rssMb;
report(`RSS after ${IDLE_SEC} s idle`, mb(idleRss), '≤ 300 MB ' + pass((idleRss ?? Infinity) <= 300));

// 3. Open loop over the million, every reader in turn, the gateway and the bare path in
// alternating blocks, ABBA (which goes first alternates), so drift and other jobs hit both alike.
const all = ptys.map((_, k) => k);
const noGc = (): GcSummary => ({ scavenges: [], markCompacts: [], allocated: 0, promoted: 0, scavengeParts: {} });
const paths = [
  { name: 'gateway', driver, pid: gateway.pid, log: join(dir, 'gateway.log'), gc: noGc(), samples: [] as number[], cpuNs: 0, mainNs: 0, ms: 0, idleNsPerMs: 0, lost: 0 },
  { name: 'bare path', driver: bareDriver, pid: bare.pid, log: bareLog, gc: noGc(), samples: [] as number[], cpuNs: 0, mainNs: 0, ms: 0, idleNsPerMs: 0, lost: 0 },
];
for (const p of paths) await p.driver.warmUp(WARMUP);
// What each spends with no reads at all (timers, polls, GC): taken out of its CPU a read, since a
// block's drain counts too and the gateway has background work the bare path has not.
const idle0 = paths.map((p) => threadCpuNsOf(p.pid).all);
await sleep(2000);
paths.forEach((p, i) => (p.idleNsPerMs = (threadCpuNsOf(p.pid).all - idle0[i]!) / 2000));
for (let block = 0; block < BLOCKS; block++) {
  for (const p of block % 2 === 0 ? paths : [...paths].reverse()) {
    p.driver.begin();
    const log0 = logSize(p.log);
    const cpu0 = threadCpuNsOf(p.pid);
    const t0 = performance.now();
    await p.driver.openLoop({ readers: all, perSec: READ_RATE, minReads: Math.ceil(READS / BLOCKS), minMs: 0, maxMs: 120_000 });
    p.lost += await p.driver.drain(30_000);
    const cpu1 = threadCpuNsOf(p.pid);
    p.cpuNs += cpu1.all - cpu0.all;
    p.mainNs += cpu1.main - cpu0.main;
    p.ms += performance.now() - t0;
    p.samples.push(...p.driver.taken());
    const gc = gcBetween(p.log, log0, logSize(p.log));
    p.gc.scavenges.push(...gc.scavenges);
    p.gc.markCompacts.push(...gc.markCompacts);
    p.gc.allocated += gc.allocated;
    p.gc.promoted += gc.promoted;
  }
}
await stopChild(bare, 5000);
const [gw, ref] = paths.map((p) => {
  const e = percentiles(p.samples);
  console.log(`  ${p.name}: swipe → pulse at ${READ_RATE}/s open loop, uniform cards: p50 ${(e.p50 / 1e6).toFixed(2)} ms, p99 ${(e.p99 / 1e6).toFixed(2)} ms, max ${(e.max / 1e6).toFixed(1)} ms, ${p.lost} without pulse`);
  const perRead = (ns: number) => `${(ns / 1e3 / p.samples.length).toFixed(0)} µs`;
  console.log(`    CPU a read ${perRead(p.cpuNs)} (main thread ${perRead(p.mainNs)}), ${perRead(p.cpuNs - p.idleNsPerMs * p.ms)} beyond its idle ${(p.idleNsPerMs / 1e3).toFixed(1)} ms/s`);
  if (GC_ARGS.length > 0) console.log(`    ${gcPer10k(p.gc, p.samples.length)}`);
  return e;
}) as [ReturnType<typeof percentiles>, ReturnType<typeof percentiles>];
const ratio = { p50: gw.p50 / ref.p50, p99: gw.p99 / ref.p99 };
/** Main-thread collections over a path's own blocks, per 10,000 reads (counts and bytes need no quiet box; pauses do). */
function gcPer10k(gc: GcSummary, reads: number): string {
  const per = (n: number) => ((n * 10_000) / reads).toFixed(1);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const volume = gc.allocated > 0 ? `, ${(gc.allocated / 1024 / reads).toFixed(2)} KiB allocated and ${(gc.promoted / 1024 / reads).toFixed(3)} KiB promoted a read` : '';
  return `main-thread GC per 10,000 reads: ${per(gc.scavenges.length)} scavenges (${per(sum(gc.scavenges))} ms), ${per(gc.markCompacts.length)} mark-compacts (${per(sum(gc.markCompacts))} ms)${volume}`;
}
report(
  `swipe → pulse at ${READ_RATE}/s open loop, uniform over ${CARDS.toLocaleString()} cards, gateway / bare path`,
  `p50 ${(gw.p50 / 1e6).toFixed(2)} / ${(ref.p50 / 1e6).toFixed(2)} ms = ${ratio.p50.toFixed(2)}×, p99 ${(gw.p99 / 1e6).toFixed(2)} / ${(ref.p99 / 1e6).toFixed(2)} ms = ${ratio.p99.toFixed(2)}×`,
  `≤ 1.2× the bare path: p50 ${pass(ratio.p50 <= 1.2)}, p99 ${pass(ratio.p99 <= 1.2)}`,
);

/** /health every 10 ms, one at a time; the longest round trip is the longest the loop did not answer. */
function probeLoop(): { stop: () => Promise<number> } {
  let running = true;
  let worst = 0;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      await fetch(`http://127.0.0.1:${httpPort}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
      worst = Math.max(worst, performance.now() - t0);
      await sleep(10);
    }
  })();
  return { stop: async () => ((running = false), await done, worst) };
}

if (E2E_ONLY) {
  await stopChild(gateway, 20_000);
  process.exit(0);
}

// 4. External imports while reads go on.
for (const [label, count] of [['1-row', 1], ['20,000-row', 20_000]] as const) {
  const csv = join(dir, `import-${count}.csv`);
  const from = CARDS + (count === 1 ? 0 : 1);
  writeCardCsv(csv, from, count, READERS);
  const before = (await fetchStatus(httpPort))?.index.cards ?? 0;
  let appliedAt: number | null = null;
  driver.begin();
  const probe = probeLoop();
  const reads = driver.openLoop({ readers: [0], perSec: 100, minReads: 200, minMs: 2000, maxMs: 120_000, until: () => appliedAt !== null && performance.now() - appliedAt > 1000 });
  const run = await runCardImport(config, csv, 180_000);
  while (appliedAt === null) {
    const s = await fetchStatus(httpPort, 1000);
    if (s !== null && s.index.cards >= before + count) appliedAt = performance.now();
    else await sleep(50);
  }
  await reads;
  await driver.drain(30_000);
  const stall = await probe.stop();
  const swipes = percentiles(driver.taken());
  report(`${label} external import (${(run.ms / 1000).toFixed(1)} s): longest /health round trip`, ms(stall), '≤ 50 ms stall ' + pass(stall <= 50));
  report(`${label} external import: swipe → pulse`, `p99 ${(swipes.p99 / 1e6).toFixed(1)} ms, max ${(swipes.max / 1e6).toFixed(1)} ms`, 'max ≤ 50 ms ' + pass(swipes.max / 1e6 <= 50));
}
const endRss = memoryOf(gateway.pid);
console.log(`  RSS at the end ${mb(endRss?.rssMb)}, peak ${mb(endRss?.peakMb)}; late opens (past the ${COMMAND_TTL_MS} ms lifetime) ${driver.lateOpens}`);
const stopStarted = performance.now();
await stopChild(gateway, 20_000);
const stopMs = performance.now() - stopStarted;

/** The gateway's own account of its index load (index-start.ts), from its JSON log. */
function indexLog(file: string): string {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"index ')) continue;
    const l = JSON.parse(line) as { msg: string; ms?: number; snapshot?: string };
    if (l.msg.startsWith('index restored') || l.msg.startsWith('index loaded')) return `${l.msg} in ${l.ms} ms${l.snapshot ? ` (${l.snapshot})` : ''}`;
  }
  return 'no index log line';
}
console.log(`  first start: ${indexLog(join(dir, 'gateway.log'))}; clean stop took ${stopMs.toFixed(0)} ms`);

// 5. A restart on the same data: the snapshot the clean stop wrote.
const restartAt = performance.now();
const again = spawnGateway(config, join(dir, 'gateway-2.log'));
await waitForHealthy(httpPort, 180_000, () => alive(again));
const restartMs = performance.now() - restartAt;
const restartRss = memoryOf(again.pid)?.rssMb;
report('lintel run restart: start → every health check ok', ms(restartMs), '≤ 3,000 ms ' + pass(restartMs <= 3000));
report('RSS after the restart is ready', mb(restartRss), '≤ 300 MB ' + pass((restartRss ?? Infinity) <= 300));
console.log(`  restart: ${indexLog(join(dir, 'gateway-2.log'))}`);
await stopChild(again, 20_000);
console.log('\n| What | Result | Target |\n| --- | --- | --- |');
for (const [what, figure, target] of rows) console.log(`| ${what} | ${figure} | ${target} |`);
process.exit(0);
