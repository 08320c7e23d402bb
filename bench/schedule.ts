/**
 * Schedule states for the decision (issue 11): 200 schedules and 100 holidays in Europe/Berlin.
 * Run: npm run build && node dist/bench/schedule.js
 *
 * - isOpen, cached: the read time inside [validFrom, validUntil) of the last refresh, which is
 *   what nearly every decision sees (the gateway refreshes at each edge);
 * - isOpen, direct: read times outside that range (an old or future instant), computed exactly
 *   from the schedule;
 * - refresh(): all 200 states and the next edge, at 1,000 instants spread over a year and at
 *   each edge in turn for a week (what the gateway's timer does).
 * One call takes nanoseconds, below what one hrtime.bigint() pair resolves honestly, so isOpen
 * is timed per batch of BATCH calls and reported per call; p50/p99 are over batches.
 */
import type { DayInterval, HolidayDef, ScheduleDef } from '../src/access/model.js';
import { CompiledSchedules } from '../src/access/schedule/compiled-schedules.js';
import { percentiles } from './stats.js';

const SCHEDULES = 200;
const HOLIDAYS = 100;
const ZONE = 'Europe/Berlin';
const NOW = Date.parse('2026-11-23T10:00:00Z');
const DAY = 86_400_000;
const BATCH = 1_000;
const BATCHES = 2_000;

/** mulberry32, seeded, so runs compare. */
let seed = 7;
const rnd = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const int = (max: number): number => Math.floor(rnd() * (max + 1));

/** Office hours, shifts, a split day, a night crossing midnight, closed weekends: what sites configure. */
function randomDay(): DayInterval[] {
  const kind = int(4);
  if (kind === 0) return [];
  if (kind === 1) return [{ from: 7 * 60 + int(8) * 15, to: 16 * 60 + int(12) * 15 }];
  if (kind === 2) return [{ from: 8 * 60, to: 12 * 60 }, { from: 13 * 60, to: 17 * 60 + int(4) * 30 }];
  if (kind === 3) return [{ from: 20 * 60 + int(8) * 15, to: 5 * 60 + int(8) * 15 }];
  return [{ from: 0, to: 1440 }];
}

const schedules: ScheduleDef[] = Array.from({ length: SCHEDULES }, (_, i) => {
  const weekday = randomDay();
  const weekly = Array.from({ length: 7 }, (_, d) => (d < 5 ? (rnd() < 0.8 ? weekday : randomDay()) : rnd() < 0.6 ? [] : randomDay()));
  return { id: `schedule-${i}`, weekly, holiday: rnd() < 0.7 ? [] : [{ from: 10 * 60, to: 14 * 60 }] };
});
const holidays: HolidayDef[] = Array.from({ length: HOLIDAYS }, (_, i) => {
  const date = new Date(NOW + (int(3 * 365) - 365) * DAY).toISOString().slice(0, 10);
  return { name: `holiday-${i}`, date: i % 3 === 0 ? date.slice(5) : date };
});

const states = new CompiledSchedules({ timeZone: ZONE, schedules, holidays });
const slots = Uint16Array.from({ length: 4_096 }, () => 1 + int(SCHEDULES - 1));

function timeIsOpen(readTimes: Float64Array): { p50: number; p99: number; open: number } {
  let open = 0; // consumed below so the calls cannot be optimised away
  for (let i = 0; i < 200_000; i++) if (states.isOpen(slots[i & 4_095]!, readTimes[i & 4_095]!)) open++;
  const perCall = new Float64Array(BATCHES);
  let k = 0;
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++, k++) if (states.isOpen(slots[k & 4_095]!, readTimes[k & 4_095]!)) open++;
    perCall[b] = Number(process.hrtime.bigint() - t0) / BATCH;
  }
  const p = percentiles(perCall);
  return { p50: p.p50, p99: p.p99, open };
}

function timeRefresh(instants: number[]): { p50: number; p99: number; max: number } {
  const ms = instants.map((at) => {
    const t0 = performance.now();
    states.refresh(at);
    return performance.now() - t0;
  });
  const p = percentiles(ms);
  return { p50: p.p50, p99: p.p99, max: p.max };
}

// Warm the offset cache and the JIT on the refresh path first (a gateway does this at start).
const coldStart = performance.now();
const firstEdge = states.refresh(NOW);
const coldMs = performance.now() - coldStart;

const inside = Float64Array.from({ length: 4_096 }, () => NOW + rnd() * (firstEdge - NOW));
const cached = timeIsOpen(inside);
// Outside the cached range: up to a week before the refresh (a read time from the past).
const outside = Float64Array.from({ length: 4_096 }, () => NOW - 1 - rnd() * 7 * DAY);
const direct = timeIsOpen(outside);

const yearRefreshes = timeRefresh(Array.from({ length: 1_000 }, () => NOW + rnd() * 365 * DAY));
const edges: number[] = [];
for (let at = NOW; at < NOW + 7 * DAY && edges.length < 10_000; ) {
  edges.push(at);
  at = states.refresh(at);
}
const edgeRefreshes = timeRefresh(edges);

console.log(`schedule states — ${SCHEDULES} schedules, ${HOLIDAYS} holidays (${ZONE}), node ${process.version}`);
console.log(`isOpen, cached path   p50 ${cached.p50.toFixed(1)} ns  p99 ${cached.p99.toFixed(1)} ns per call (${BATCH}-call batches; valid ${((firstEdge - NOW) / 60_000).toFixed(0)} min)`);
console.log(`isOpen, direct path   p50 ${direct.p50.toFixed(0)} ns  p99 ${direct.p99.toFixed(0)} ns per call`);
console.log(`refresh(), first      ${coldMs.toFixed(2)} ms (cold offset cache and JIT)`);
console.log(`refresh(), over a year  p50 ${yearRefreshes.p50.toFixed(3)} ms  p99 ${yearRefreshes.p99.toFixed(3)} ms  max ${yearRefreshes.max.toFixed(3)} ms (1,000 instants)`);
console.log(`refresh(), edge to edge p50 ${edgeRefreshes.p50.toFixed(3)} ms  p99 ${edgeRefreshes.p99.toFixed(3)} ms  max ${edgeRefreshes.max.toFixed(3)} ms (${edges.length} edges in a week)`);
if (cached.open + direct.open < 0) console.log('unreachable');
