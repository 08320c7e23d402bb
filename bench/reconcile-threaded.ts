/**
 * Reconciliation as the gateway runs it, and the decision latency beside it (issue 10): the
 * sweep runs on the upstream thread (src/upstream/worker/upstream-thread.ts, the built worker)
 * with its own SQLite connection, and the main thread, which decides, learns of its commits
 * through change_log (ExternalChangeWatch, rows of larger changes read by the refresh worker),
 * exactly as `lintel run` wires it. bench/reconcile.ts runs the sweep on the deciding thread
 * itself, as the gateway did before the upstream thread; its figures are the worst case.
 *
 *   npm run build && node dist/bench/reconcile-threaded.js
 *
 * 10,000 appointments across 500 resources (platform simulator in its own process), CARDS
 * (default 1,000,000) other holders in the index; decisions sampled one per setImmediate turn
 * (the main thread then takes a core the sweep's threads would have), and in a second pass one
 * per 1 ms timer (the main thread mostly idle, as on a site), from before the thread starts until
 * the index has applied the second sweep. ROUNDS (default 3) fresh databases per pass.
 */
import { join } from 'node:path';
import { AccessIndex } from '../src/access/access-index.js';
import { decideCardInto } from '../src/access/decide.js';
import { decisionSlot } from '../src/access/types.js';
import { openSiteStore } from '../src/site-store.js';
import { readChangeMark } from '../src/store/change-log.js';
import { syncFromConfig } from '../src/store/doors.js';
import { ExternalChangeWatch } from '../src/store/external-changes.js';
import { refreshPeople } from '../src/store/index-loader.js';
import type { ReconcileReport } from '../src/upstream/reconciler.js';
import { UpstreamThread } from '../src/upstream/upstream-thread-host.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';
import { tempDir } from '../test/helpers/tmp.js';
import { fmtUs, percentiles } from './stats.js';
import { cpuMsBetween, processCpuMs, threadCpuNs, threadsBornDuring } from './thread-cpu.js';
import { reconcileBenchSite, spawnPlatformSim } from './sim-spawn.js';

const RESOURCES = 500;
const APPOINTMENTS = Number(process.env.APPOINTMENTS ?? 10_000);
const CARDS = Number(process.env.CARDS ?? 1_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TOKEN = 'bench-token';
const { platform, baseUrl } = await spawnPlatformSim(RESOURCES, APPOINTMENTS, TOKEN);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Round {
  cold: ReconcileReport;
  steady: ReconcileReport;
  /** From the thread's start until the index had applied everything the sweeps committed. */
  appliedMs: number;
  workerPeople: number;
  /** CPU ms (schedstat), independent of the load beside the bench. */
  cpu: RoundCpu;
}

/**
 * The upstream thread's CPU from its spawn until the sweep from empty reported (its boot and
 * subscription included: the thread says nothing between them and the sweep), and in the sweep
 * with no change; the process's other threads but the deciding main one (refresh worker, V8's
 * GC helpers, libuv's pool) from spawn until the index applied both sweeps; the simulator
 * process (the platform's side, sharing the cores) in the same two spans as the thread.
 */
interface RoundCpu {
  cold: number;
  steady: number;
  others: number;
  simCold: number;
  simSteady: number;
}

/** `spin`: one decision every setImmediate turn (the main thread never idles); `timer`: one a 1 ms timer, a mostly idle main thread as on a site. */
type Pace = 'spin' | 'timer';

async function round(pace: Pace, samples: number[]): Promise<Round> {
  const tmp = tempDir('lintel-bench-thr-');
  const config = reconcileBenchSite(join(tmp.dir, 'data'), RESOURCES, baseUrl, TOKEN);
  const { store } = openSiteStore(config);
  syncFromConfig(store, config);
  let index = new AccessIndex();
  index.setDoors(config.doors.map((d) => d.id));
  const now = Date.now();
  for (let i = 0; i < CARDS; i++) {
    index.putPerson({
      id: 10_000_000 + i,
      active: true,
      tokensValidAfter: 0,
      grants: [{ door: `door-${i % 50}`, from: now - 3_600_000, to: now + 3_600_000 }],
      cards: [{ number: String(20_000_000 + i), active: true }],
    });
  }
  store.onCommit((c) => refreshPeople(store.db, index, c.people));
  const watch = new ExternalChangeWatch({
    db: store.db,
    clock: systemClock,
    logger: silentLogger,
    index: () => index,
    swap: (fresh) => (index = fresh),
    from: readChangeMark(store.db),
    workerReads: true,
  }).start();
  store.onCommit((c) => watch.noteOwnCommit(c.people));

  const slot = decisionSlot();
  let sampling = true;
  const sample = (): void => {
    const k = Math.floor(Math.random() * CARDS);
    const t0 = performance.now();
    decideCardInto(slot, index, String(20_000_000 + k), `door-${k % 50}`, now);
    samples.push((performance.now() - t0) * 1e6);
    if (!sampling) return;
    if (pace === 'spin') setImmediate(sample);
    else setTimeout(sample, 1);
  };
  setImmediate(sample);

  const host = new UpstreamThread({ config, token: TOKEN, clock: systemClock, logger: silentLogger, countFailure: () => undefined, onCommitted: () => watch.pollSoon() });
  const started = performance.now();
  const at0 = { threads: threadCpuNs(), sim: processCpuMs(platform.pid!) };
  const thread = threadsBornDuring(() => void host.start());
  // The thread subscribes and sweeps on its own at start: that sweep is the one from empty.
  let cold = host.status().lastReconcile;
  while (cold === null) {
    await sleep(50);
    cold = host.status().lastReconcile;
  }
  const atCold = { threads: threadCpuNs(), sim: processCpuMs(platform.pid!) };
  const steady = await host.reconcileNow();
  const atSteady = { threads: threadCpuNs(), sim: processCpuMs(platform.pid!) };
  const applied = await watch.waitApplied(readChangeMark(store.db).seq, 30_000);
  const appliedMs = performance.now() - started;
  const atEnd = threadCpuNs();
  const others = [...atEnd.keys()].filter((tid) => tid !== process.pid && !thread.includes(tid));
  const cpu: RoundCpu = {
    cold: cpuMsBetween(at0.threads, atCold.threads, thread),
    steady: cpuMsBetween(atCold.threads, atSteady.threads, thread),
    others: cpuMsBetween(at0.threads, atEnd, others),
    simCold: atCold.sim - at0.sim,
    simSteady: atSteady.sim - atCold.sim,
  };
  sampling = false;
  const workerPeople = watch.stats().workerPeople;
  if (!applied) throw new Error('the index did not apply the sweeps within 30 s');
  await host.stop();
  watch.stop();
  store.close();
  tmp.cleanup();
  return { cold, steady, appliedMs, workerPeople, cpu };
}

async function pass(pace: Pace): Promise<void> {
  const samples: number[] = [];
  const results: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) results.push(await round(pace, samples));
  const list = (pick: (r: Round) => number) => results.map((r) => pick(r).toFixed(0)).join(', ');
  const c = results[0]!.cold;
  const p = percentiles(samples);
  console.log(`${pace === 'spin' ? 'one decision every loop turn (the main thread never idles)' : 'one decision a 1 ms timer (a mostly idle main thread)'}, ${ROUNDS} round(s), sweep on the upstream thread:`);
  console.log(`  reconcile from empty: ${list((r) => r.cold.durationMs)} ms for ${c.resources} resources, ${c.appointments} listed, ${c.changed} applied, ${c.failed} failed (target ≤ 2000 ms)`);
  console.log(`  reconcile, no change: ${list((r) => r.steady.durationMs)} ms, ${results[0]!.steady.changed} applied`);
  console.log(`  thread start → index has applied both sweeps: ${list((r) => r.appliedMs)} ms; people read by the refresh worker: ${list((r) => r.workerPeople)}`);
  const cpu = (pick: (c: RoundCpu) => number) => results.map((r) => pick(r.cpu).toFixed(0)).join(', ');
  console.log(`  CPU ms, upstream thread: spawn → sweep from empty done ${cpu((c) => c.cold)}; sweep, no change ${cpu((c) => c.steady)}`);
  console.log(`  CPU ms, the process's other threads but main (refresh worker, GC helpers, libuv), spawn → applied: ${cpu((c) => c.others)}`);
  console.log(`  CPU ms, simulator process: spawn → sweep from empty done ${cpu((c) => c.simCold)}; sweep, no change ${cpu((c) => c.simSteady)}`);
  console.log(`  decision on the main thread meanwhile (${samples.length} samples): p50 ${fmtUs(p.p50)}  p99 ${fmtUs(p.p99)}  p99.9 ${fmtUs(p.p999)} (target p99 ≤ 5 µs)`);
}

console.log(`reconcile bench, product threading: ${APPOINTMENTS} appointments, ${RESOURCES} resources, ${CARDS.toLocaleString('en')} holders in the index`);
await pass('spin');
await pass('timer');
platform.kill('SIGTERM');
