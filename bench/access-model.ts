/**
 * Badge decision latency under the access model: 1,000,000 people and cards, 10,000 access
 * groups, 200 schedules, 100 holidays and 1,000,000 booking grants (issue 11).
 * Run: npm run build && node --expose-gc dist/bench/access-model.js
 * Target: p99 ≤ 1 µs. Prints p50/p99/p99.9, the windows per person and the index's memory.
 *
 * The ScheduleStates here reads a Uint8Array of current states, which is what the real one
 * (src/access/schedule/) does between two edges: the figure is the index's and the core's cost,
 * with schedules as cheap as the design makes them. Every person has a booking grant (a third
 * current, a third ended, a third for another door), 70 % are members of one access group
 * (each group: 1–2 zones of 1–3 doors, each zone under one of the 200 schedules or none, half
 * of them open now), 10 % have a validity, 2 % a disabled and 0.2 % a lost card.
 */
import { AccessIndex, type GrantWindow, type PersonInput } from '../src/access/access-index.js';
import { decideCardInto, type PolicyContext } from '../src/access/decide.js';
import type { AccessGroupDef, AccessModel, ScheduleStates, ZoneDef } from '../src/access/model.js';
import { decisionSlot } from '../src/access/types.js';
import { fmtUs, memoryMb, percentiles } from './stats.js';

const PEOPLE = Number(process.env.PEOPLE ?? 1_000_000);
const DOORS = 200;
const ZONES = 2_000;
const GROUPS = 10_000;
const SCHEDULES = 200;
const HOLIDAYS = 100;
const NOW = Date.parse('2026-11-23T10:00:00Z');
const H = 3600_000;
/** Share of people in one access group, and of people with a validity (MEMBERS=0 VALIDITY=0: the plain decision bench's shape). */
const MEMBERS = Number(process.env.MEMBERS ?? 0.7);
const VALIDITY = Number(process.env.VALIDITY ?? 0.1);

// mulberry32, as in bench/decision.ts (full period; the lookups must not repeat).
let seed = 42;
const rnd = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const pick = (n: number): number => Math.floor(rnd() * n);

/** States of every schedule now, one byte each: what the real ScheduleStates caches between edges. */
class ArraySchedules implements ScheduleStates {
  readonly states = new Uint8Array(SCHEDULES + 1);
  private readonly slots = new Map<string, number>();

  constructor(ids: readonly string[]) {
    this.states[0] = 1;
    ids.forEach((id, i) => {
      this.slots.set(id, i + 1);
      this.states[i + 1] = i % 2;
    });
  }

  slotOf(id: string | null): number {
    if (id === null) return 0;
    const slot = this.slots.get(id);
    if (slot === undefined) throw new Error(`unknown schedule ${id}`);
    return slot;
  }

  isOpen(slot: number): boolean {
    return this.states[slot] === 1;
  }

  isHoliday(): boolean {
    return false;
  }
}

function accessModel(): AccessModel {
  const doors = Array.from({ length: DOORS }, (_, i) => `door-${i}`);
  const schedules = Array.from({ length: SCHEDULES }, (_, i) => ({
    id: `schedule-${i}`,
    weekly: Array.from({ length: 7 }, () => [{ from: 420, to: 1140 }]),
    holiday: [],
  }));
  const zones: ZoneDef[] = Array.from({ length: ZONES }, (_, i) => ({ id: `zone-${i}`, doors: Array.from({ length: 1 + pick(3) }, () => doors[pick(DOORS)]!) }));
  const groups: AccessGroupDef[] = Array.from({ length: GROUPS }, (_, i) => ({
    id: `group-${i}`,
    zones: Array.from({ length: 1 + pick(2) }, () => ({ zone: `zone-${pick(ZONES)}`, schedule: rnd() < 0.2 ? null : `schedule-${pick(SCHEDULES)}` })),
    lockdownOverride: i % 1000 === 0,
    firstPersonIn: i % 500 === 0,
  }));
  const holidays = Array.from({ length: HOLIDAYS }, (_, i) => ({ name: `holiday ${i}`, date: `2027-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}` }));
  return { timeZone: 'Europe/Berlin', schedules, holidays, zones, groups, areas: [], doors: doors.map((id) => ({ id, mode: 'card', unlockSchedule: null, firstPersonIn: false })) };
}

const cardNumber = (id: number): string => String(10_000_000 + id);

function personInput(id: number): PersonInput {
  const k = id % 3;
  const grants: GrantWindow[] = [
    { door: `door-${id % DOORS}`, from: k === 1 ? NOW - 3 * H : NOW - H, to: k === 1 ? NOW - 2 * H : NOW + H, source: 'booking' },
  ];
  const lost = id % 500 === 0;
  return {
    id,
    active: true,
    tokensValidAfter: 0,
    grants,
    cards: [{ number: cardNumber(id), active: id % 50 !== 0 && !lost, ...(lost ? { state: 'lost' as const } : {}) }],
    ...((id % 100) / 100 < VALIDITY ? { validFrom: NOW - 24 * H * (id % 7), validTo: NOW + 24 * H * ((id % 5) - 1) } : {}),
    memberships: rnd() < MEMBERS ? [{ group: `group-${pick(GROUPS)}`, from: -Infinity, to: Infinity }] : [],
  };
}

const model = accessModel();
const states = new ArraySchedules(model.schedules.map((s) => s.id));
const before = memoryMb();
const t0 = performance.now();
const index = new AccessIndex();
index.setModel(model, states);
index.setDoors(model.doors.map((d) => d.id));
index.reserve(PEOPLE, PEOPLE);
for (let id = 1; id <= PEOPLE; id++) index.putPerson(personInput(id));
const buildMs = performance.now() - t0;
const after = memoryMb();
const stats = index.stats();

const N = 1_000_000;
const cards: string[] = new Array(N);
const doorsFor: string[] = new Array(N);
for (let i = 0; i < N; i++) {
  const id = 1 + Math.floor(rnd() * PEOPLE * 1.1); // ~9 % unknown cards
  cards[i] = cardNumber(id);
  // Half at the booking's door, the rest anywhere (most of those meet a group window or none).
  doorsFor[i] = `door-${rnd() < 0.5 ? id % DOORS : pick(DOORS)}`;
}
const ctx: PolicyContext = { site: { lockdown: false } };
const slot = decisionSlot();
for (let i = 0; i < 200_000; i++) decideCardInto(slot, index, cards[i]!, doorsFor[i]!, NOW, ctx, 'reader'); // warm up the JIT

/**
 * COUNT=n: n decisions, untimed, between two process.cpuUsage() calls, for instruction and cache
 * miss counts under valgrind (this VM has no hardware counters): `valgrind --tool=callgrind
 * --dump-before=uv_getrusage` dumps the counts at each call, so the second dump is the n
 * decisions alone, without the build's counts, which vary from run to run (BENCHMARKS.md, issue 11).
 */
const COUNT = Number(process.env.COUNT ?? 0);
if (COUNT > 0) {
  let granted = 0;
  process.cpuUsage();
  for (let i = 0; i < COUNT; i++) if (decideCardInto(slot, index, cards[i % N]!, doorsFor[i % N]!, NOW, ctx, 'reader').result === 'granted') granted++;
  process.cpuUsage();
  console.log(`access-model count: ${COUNT} decisions, ${granted} granted, pool in use ${((index.pool.inUse() * 8) / 1048576).toFixed(1)} MB`);
  process.exit(0);
}

const samples = new Float64Array(N);
const reasons = new Map<string, number>();
const sources = new Map<string, number>();
for (let i = 0; i < N; i++) {
  const s = process.hrtime.bigint();
  const d = decideCardInto(slot, index, cards[i]!, doorsFor[i]!, NOW, ctx, 'reader');
  samples[i] = Number(process.hrtime.bigint() - s);
  reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
  if (d.source !== null) sources.set(d.source, (sources.get(d.source) ?? 0) + 1);
}
const p = percentiles(samples);
const tablesMb = index.tableBytes() / 1048576;
console.log(
  `access-model bench: ${stats.people.toLocaleString()} people, ${stats.cards.toLocaleString()} cards, ${GROUPS.toLocaleString()} groups, ${SCHEDULES} schedules, ${HOLIDAYS} holidays, ${DOORS} doors`,
);
console.log(`  ${stats.grants.toLocaleString()} windows (${(stats.grants / stats.people).toFixed(2)} a person: 1 booking + the expanded memberships)`);
console.log(`  index build ${buildMs.toFixed(0)} ms, typed arrays ${tablesMb.toFixed(0)} MB, JS heap +${(after.heap - before.heap).toFixed(0)} MB`);
console.log(`  ${N.toLocaleString()} decisions: p50 ${fmtUs(p.p50)}  p99 ${fmtUs(p.p99)}  p99.9 ${fmtUs(p.p999)}  max ${fmtUs(p.max)}  (target p99 ≤ 1 µs; includes ~0.05 µs hrtime overhead)`);
console.log(`  reasons: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}`);
console.log(`  granted by: ${[...sources].map(([r, n]) => `${r} ${n}`).join(', ')}`);
