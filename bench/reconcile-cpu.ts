/**
 * The CPU one sweep costs (issue 10), apart from everything that runs beside it in
 * bench/reconcile-threaded.ts: the same store and UpstreamSync the upstream thread builds
 * (src/upstream/worker/upstream-thread.ts: openUpstreamThreadStore, one coalescing commit listener), run
 * on this thread with nothing else on it, against the platform simulator in its own process.
 * Each round: a fresh database, a sweep from empty, then one with nothing changed. Prints this
 * thread's CPU per sweep (schedstat, ns: load-independent, unlike the wall times beside it) and
 * the simulator's, which stands for the platform and shares the cores on this machine.
 *
 *   npm run build && node dist/bench/reconcile-cpu.js     (ROUNDS, default 5; APPOINTMENTS)
 *
 * Under --cpu-prof the profile holds the sweeps and little else (no index, no decisions).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncFromConfig } from '../src/store/doors.js';
import { UpstreamSync } from '../src/upstream/upstream-sync.js';
import { openUpstreamThreadStore } from '../src/upstream/worker/thread-store.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';
import { tempDir } from '../test/helpers/tmp.js';
import { processCpuMs } from './thread-cpu.js';
import { reconcileBenchSite, spawnPlatformSim } from './sim-spawn.js';

const RESOURCES = 500;
const APPOINTMENTS = Number(process.env.APPOINTMENTS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const TOKEN = 'bench-token';
const { platform, baseUrl } = await spawnPlatformSim(RESOURCES, APPOINTMENTS, TOKEN);

/** This thread's CPU so far, ms (the main thread's schedstat: its tid is the pid). */
const ownCpuMs = (): number => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;

interface Sweep {
  wallMs: number;
  cpuMs: number;
  simMs: number;
  changed: number;
  listed: number;
}

async function measured(sync: UpstreamSync): Promise<Sweep> {
  const [cpu0, sim0] = [ownCpuMs(), processCpuMs(platform.pid!)];
  const report = await sync.reconcileNow();
  if (report.failed > 0) throw new Error(`${report.failed} fetches failed`);
  return { wallMs: report.durationMs, cpuMs: ownCpuMs() - cpu0, simMs: processCpuMs(platform.pid!) - sim0, changed: report.changed, listed: report.appointments };
}

async function round(): Promise<{ cold: Sweep; steady: Sweep }> {
  const tmp = tempDir('lintel-bench-cpu-');
  const config = reconcileBenchSite(join(tmp.dir, 'data'), RESOURCES, baseUrl, TOKEN);
  const store = openUpstreamThreadStore(config);
  syncFromConfig(store, config);
  // The thread's one listener: it makes every commit read its change_log rows, as there.
  let pending = false;
  store.onCommit(() => {
    if (pending) return;
    pending = true;
    setImmediate(() => (pending = false));
  });
  const sync = new UpstreamSync({
    config: config.upstream!,
    grace: { beforeMin: config.access.graceBeforeMinutes, afterMin: config.access.graceAfterMinutes },
    resources: config.resources,
    store,
    clock: systemClock,
    logger: silentLogger,
    token: TOKEN,
  });
  const cold = await measured(sync);
  const steady = await measured(sync);
  await sync.stop();
  store.close();
  tmp.cleanup();
  return { cold, steady };
}

const rounds: { cold: Sweep; steady: Sweep }[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round());
} finally {
  platform.kill('SIGTERM'); // a failed round must not leave the simulator running
}
const list = (pick: (s: { cold: Sweep; steady: Sweep }) => number) => rounds.map((r) => pick(r).toFixed(0)).join(', ');
const first = rounds[0];
console.log(`one sweep's CPU, ${APPOINTMENTS} appointments across ${RESOURCES} resources, ${ROUNDS} round(s) (the first one warms the JIT):`);
if (first) {
  console.log(`  from empty (${first.cold.listed} listed, ${first.cold.changed} applied): CPU ${list((r) => r.cold.cpuMs)} ms; simulator ${list((r) => r.cold.simMs)} ms; wall ${list((r) => r.cold.wallMs)} ms`);
  console.log(`  no change  (${first.steady.changed} applied): CPU ${list((r) => r.steady.cpuMs)} ms; simulator ${list((r) => r.steady.simMs)} ms; wall ${list((r) => r.steady.wallMs)} ms`);
}
