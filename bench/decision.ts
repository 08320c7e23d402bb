/**
 * Badge decision latency with 1,000,000 cards and 1,000,000 grants.
 * Run: npm run build && node --expose-gc dist/bench/decision.js   (CARDS=uid7 for 7-byte UIDs)
 * Target: p99 ≤ 5 µs. Prints p50/p99/p99.9 and the index's memory (JS heap + typed arrays).
 */
import { AccessIndex, type GrantWindow } from '../src/access/access-index.js';
import { decideCardInto } from '../src/access/decide.js';
import { decisionSlot } from '../src/access/types.js';
import { fmtUs, memoryMb, percentiles } from './stats.js';

const PEOPLE = Number(process.env.PEOPLE ?? 1_000_000);
/**
 * CARDS=uid7: 7-byte card UIDs (DESFire, Ultralight: 17-digit canonical numbers, above 2^53);
 * default: 8-digit numbers as from 26-bit Wiegand or 4-byte UIDs.
 */
const UID7 = process.env.CARDS === 'uid7';
const UID7_BASE = 0x04_0000_0000_0000n; // NXP's manufacturer byte first
const cardNumber = (id: number): string => (UID7 ? (UID7_BASE + BigInt(id) * 7919n).toString() : String(10_000_000 + id));
const DOORS = 200;
const NOW = Date.parse('2026-11-22T10:00:00Z');
const H = 3600_000;

function build(): AccessIndex {
  const index = new AccessIndex();
  const doors = Array.from({ length: DOORS }, (_, i) => `door-${i}`);
  index.setDoors(doors);
  for (let id = 1; id <= PEOPLE; id++) {
    // One grant each: a third are current, a third ended, a third for another door.
    const k = id % 3;
    const grants: GrantWindow[] = [
      { door: doors[id % DOORS]!, from: k === 1 ? NOW - 3 * H : NOW - H, to: k === 1 ? NOW - 2 * H : NOW + H },
    ];
    index.putPerson({ id, active: true, tokensValidAfter: 0, grants, cards: [{ number: cardNumber(id), active: id % 50 !== 0 }] });
  }
  return index;
}

const before = memoryMb();
const t0 = performance.now();
const index = build();
const buildMs = performance.now() - t0;
const after = memoryMb();
const heapMb = after.heap - before.heap;
// The index's own count: its pool is a resizable ArrayBuffer, which memoryUsage().arrayBuffers misses.
const tablesMb = index.tableBytes() / 1048576;
const stats = index.stats();

const N = 1_000_000;
// Pre-generate the lookups so the loop measures only the decision.
const cards: string[] = new Array(N);
const doorsFor: string[] = new Array(N);
// mulberry32: full 2^32 period. The LCG used before ((seed * 1103515245 + 12345) & 0x7fffffff in
// doubles) lost its low bits to rounding and cycled after ~7,900 draws: its "1M cards" run looked
// up 7,876 distinct cards, all cached after the first pass.
let seed = 42;
const rnd = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
for (let i = 0; i < N; i++) {
  const id = 1 + Math.floor(rnd() * PEOPLE * 1.1); // ~9 % unknown cards
  cards[i] = cardNumber(id);
  doorsFor[i] = `door-${rnd() < 0.8 ? id % DOORS : (id + 7) % DOORS}`;
}
const slot = decisionSlot(); // the badge pipeline's path: the decision fills a slot it owns
for (let i = 0; i < 200_000; i++) decideCardInto(slot, index, cards[i]!, doorsFor[i]!, NOW); // warm up the JIT

/** COUNT=n: n untimed decisions and nothing else, for instruction counts (as in bench/access-model.ts). */
const COUNT = Number(process.env.COUNT ?? 0);
if (COUNT > 0) {
  let granted = 0;
  for (let i = 0; i < COUNT; i++) if (decideCardInto(slot, index, cards[i % N]!, doorsFor[i % N]!, NOW).result === 'granted') granted++;
  console.log(`decision count: ${COUNT} decisions, ${granted} granted`);
  process.exit(0);
}

const samples = new Float64Array(N);
const reasons = new Map<string, number>();
for (let i = 0; i < N; i++) {
  const s = process.hrtime.bigint();
  const d = decideCardInto(slot, index, cards[i]!, doorsFor[i]!, NOW);
  samples[i] = Number(process.hrtime.bigint() - s);
  reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
}
const p = percentiles(samples);
const distinct = new Set(cards).size;
console.log(`decision bench: ${stats.cards.toLocaleString()} cards (${UID7 ? '7-byte UIDs, 17 digits' : '8-digit numbers'}), ${stats.grants.toLocaleString()} grants, ${stats.doors} doors`);
console.log(`  index build ${buildMs.toFixed(0)} ms, index memory ≈ ${(heapMb + tablesMb).toFixed(0)} MB (JS heap ${heapMb.toFixed(0)} MB + typed arrays ${tablesMb.toFixed(0)} MB)`);
console.log(`  ${N.toLocaleString()} decisions: p50 ${fmtUs(p.p50)}  p99 ${fmtUs(p.p99)}  p99.9 ${fmtUs(p.p999)}  max ${fmtUs(p.max)}  (target p99 ≤ 5 µs; includes ~0.05 µs hrtime overhead)`);
console.log(`  distinct cards looked up: ${distinct.toLocaleString()} of ${N.toLocaleString()} lookups (uniform over ${Math.round(PEOPLE * 1.1).toLocaleString()} numbers)`);
console.log(`  reasons: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}`);
