/**
 * Reconciliation of 10,000 appointments across 500 resources (yesterday/today/tomorrow each),
 * and the badge decision latency measured while it runs. The platform simulator runs as its
 * own process (bench/sim-process.ts), as the real platform is another machine.
 * Run: npm run build && node dist/bench/reconcile.js
 * Targets: a sweep ≤ 2 s; decideCard p99 ≤ 5 µs, sampled in setImmediate turns interleaved
 * with the fetch callbacks on the same event loop.
 */
import { spawn } from 'node:child_process';
import { decideCard } from '../src/access/decide.js';
import { startRig } from './upstream-rig.js';
import { fmtUs, percentiles } from './stats.js';

const RESOURCES = 500;
const APPOINTMENTS = Number(process.env.APPOINTMENTS ?? 10_000);
const CARDS = 200_000;
const platform = spawn(process.execPath, [new URL('./sim-process.js', import.meta.url).pathname, String(RESOURCES), String(APPOINTMENTS), 'bench-token'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const baseUrl = await new Promise<string>((resolve) => platform.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
const rig = await startRig(RESOURCES, baseUrl);

// A pre-filled index: 200k card holders with a current grant (ids far from the booking people).
const now = Date.now();
for (let i = 0; i < CARDS; i++) {
  rig.index.putPerson({
    id: 10_000_000 + i,
    active: true,
    tokensValidAfter: 0,
    grants: [{ door: `door-${i % 50}`, from: now - 3_600_000, to: now + 3_600_000 }],
    cards: [{ number: String(20_000_000 + i), active: true }],
  });
}

const samples: number[] = [];
let sampling = true;
let k = 0;
function sample(): void {
  for (let j = 0; j < 20; j++) {
    const card = String(20_000_000 + ((k += 7919) % CARDS));
    const door = `door-${k % 50}`;
    // performance.now() returns an unboxed double; hrtime.bigint() allocates, and an
    // allocation inside the timed span can run a GC marking step that is not the decision's.
    const t0 = performance.now();
    decideCard(rig.index, card, door, now);
    samples.push((performance.now() - t0) * 1e6);
  }
  if (sampling) setImmediate(sample);
}
setImmediate(sample);

const first = await rig.sync.reconcileNow();
const second = await rig.sync.reconcileNow();
sampling = false;
const p = percentiles(samples);
console.log(`reconcile from empty: ${first.durationMs} ms for ${first.resources} resources, ${first.appointments} listed, ${first.changed} applied, ${first.failed} failed (target ≤ 2000 ms)`);
console.log(`reconcile, no change: ${second.durationMs} ms, ${second.changed} applied`);
console.log(`decideCard during reconciliation (${samples.length} samples): p50 ${fmtUs(p.p50)}  p99 ${fmtUs(p.p99)}  p99.9 ${fmtUs(p.p999)} (target p99 ≤ 5 µs)`);
await rig.close();
platform.kill('SIGTERM');
