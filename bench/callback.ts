/**
 * Callback received → grant effective in the index, over loopback with the simulator.
 * Run: npm run build && node dist/bench/callback.js
 * Target: p99 ≤ 50 ms over 1,000 callbacks. Measured from the moment the platform emits the
 * event (so it includes signing, the HTTP POST, verification, the daily-list fetch, the SQLite
 * transaction and the index refresh) to the first commit after which the card is granted.
 */
import { decideCard } from '../src/access/decide.js';
import { assignCredential, upsertPerson } from '../src/store/people.js';
import { startRig } from './upstream-rig.js';
import { percentiles } from './stats.js';

const N = Number(process.env.CALLBACKS ?? 1000);
const rig = await startRig(10);
await rig.sync.start();
await rig.sync.idle();

const now = Date.now();
rig.store.transact((tx) => {
  for (let i = 0; i < N; i++) assignCredential(tx, upsertPerson(tx, `p${i}@bench.example`, null, now), String(5_000_000 + i), 'decimal', 'active', now);
});

let waiting: { card: string; door: string; at: number; resolve: () => void } | null = null;
rig.store.onCommit(() => {
  if (waiting && decideCard(rig.index, waiting.card, waiting.door, waiting.at).result === 'granted') {
    const w = waiting;
    waiting = null;
    w.resolve();
  }
});

const samples: number[] = [];
for (let i = 0; i < N; i++) {
  const r = rig.resources[i % rig.resources.length]!;
  const start = now + 3_600_000 + (i % 8) * 60_000;
  const t0 = performance.now();
  const done = new Promise<void>((resolve) => {
    waiting = { card: String(5_000_000 + i), door: r.doors[0]!, at: start, resolve };
  });
  rig.sim!.createAppointment({ resourceId: r.id, start, end: start + 1_800_000, organizer: { email: `p${i}@bench.example` } });
  await done;
  samples.push((performance.now() - t0) * 1e6);
}
const p = percentiles(samples);
const ms = (ns: number) => `${(ns / 1e6).toFixed(2)} ms`;
console.log(`callback → grant effective, ${N} callbacks over loopback: p50 ${ms(p.p50)}  p99 ${ms(p.p99)}  max ${ms(p.max)}  (target p99 ≤ 50 ms)`);
console.log(`status: ${JSON.stringify(rig.sync.status().callbacks)}`);
await rig.close();
