/**
 * What the bookkeeping after an unlock costs the main thread: the DecisionRecorder as
 * decisions-part.ts wires it (a real SQLite file in WAL mode, pino through sonic-boom to a file,
 * the real Metrics, the event publisher's payloads), fed bursts of BATCH decisions, each burst
 * flushed as the 2 ms timer would and followed by a turn of the loop so the log writes'
 * completions run (and are counted) too. The figure is the main thread's own CPU time per
 * decision from /proc/self/task/<pid>/schedstat, so other jobs on the box change it far less
 * than a wall time; variants with one part left out say what each part costs, in alternating
 * rounds. The MQTT publish of the decision event is not in it (no broker here): the publisher's
 * sink only counts.
 *
 * Run: npm run build && node dist/bench/record-cost.js      Env: DECISIONS (a variant and round,
 * default 30,000), BATCH (decisions a flush, default 3), ROUNDS (default 3), WARMUP (decisions a
 * variant before measuring, default 10,000), ONLY (one variant's name, e.g. "as wired": for runs
 * under valgrind, whose instruction counts no other job on the box can change).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { pino } from 'pino';
import { eventTopics } from '../src/events/event-payloads.js';
import { EventPublisher } from '../src/events/event-publisher.js';
import { Metrics } from '../src/metrics.js';
import { DecisionRecorder, type RecordedDecision } from '../src/pipeline/decision-recorder.js';
import { RecentDecisions } from '../src/pipeline/recent-decisions.js';
import { AuditLog } from '../src/store/audit.js';
import { systemClock } from '../src/util/clock.js';
import { createLogger } from '../src/util/log.js';
import { testStore } from '../test/helpers/store.js';
import { tempDir } from '../test/helpers/tmp.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DECISIONS = env('DECISIONS', 30_000);
const BATCH = env('BATCH', 3);
const ROUNDS = env('ROUNDS', 3);
const WARMUP = env('WARMUP', 10_000);
const DOORS = Array.from({ length: 20 }, (_, k) => `d${String(k).padStart(2, '0')}`);

const mainThreadNs = (): number => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);

type Variant = 'as wired' | 'no log line' | 'no audit commit' | 'no event payloads';
const VARIANTS = (['as wired', 'no log line', 'no audit commit', 'no event payloads'] as Variant[]).filter((v) => process.env.ONLY === undefined || v === process.env.ONLY);

const tmp = tempDir('lintel-record-cost-');
const site = testStore(DOORS);
const sink = pino.destination({ dest: join(tmp.dir, 'gateway.log'), sync: false, maxWrite: 1024 });

/** One recorder per variant, as the gateway builds it, minus the part the variant leaves out. */
function recorderFor(variant: Variant): DecisionRecorder {
  const logger = createLogger(variant === 'no log line' ? 'warn' : 'info', sink).child({ part: 'access' });
  const real = new AuditLog(site.store.db);
  const audit = variant === 'no audit commit' ? ({ appendMany: () => undefined } as unknown as AuditLog) : real;
  const recorder = new DecisionRecorder({ audit, clock: systemClock, logger, metrics: new Metrics(), recent: new RecentDecisions() });
  if (variant !== 'no event payloads') {
    const events = new EventPublisher({ topics: eventTopics('lintel/bench'), sink: { publish: () => true }, haReaderEvents: () => false, failed: (_task, err) => console.error(err) });
    events.attach({ onDecision: (l) => recorder.onDecision(l), onState: () => () => undefined }, null);
  }
  return recorder;
}

let serial = 0;
function decision(): RecordedDecision {
  const k = serial++ % DOORS.length;
  const mark = performance.now();
  return {
    at: Date.now(),
    readerId: `r${String(k).padStart(2, '0')}`,
    doorId: DOORS[k]!,
    credential: `****${String(1000 + (serial % 9000))}`,
    personId: 1 + (serial % 1000),
    kind: 'card',
    result: 'granted',
    reason: 'granted',
    relay: 'sent',
    source: 'staff',
    readMark: mark,
    decidedMark: mark + 0.002,
    publishedMark: mark + 0.02,
  };
}

/** Main-thread ns a decision over `count` decisions in flushes of BATCH. */
async function run(recorder: DecisionRecorder, count: number): Promise<number> {
  const t0 = mainThreadNs();
  for (let done = 0; done < count; done += BATCH) {
    for (let i = 0; i < BATCH; i++) recorder.record(decision());
    recorder.flush();
    await turn();
  }
  return (mainThreadNs() - t0) / count;
}

const recorders = new Map(VARIANTS.map((v) => [v, recorderFor(v)]));
for (const [, r] of recorders) await run(r, WARMUP); // the JIT's warm-up, every variant
const figures = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const v of order) figures.get(v)!.push(await run(recorders.get(v)!, DECISIONS));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const asWired = median(figures.get('as wired')!);
console.log(`record-cost: ${DECISIONS.toLocaleString()} decisions a variant and round, ${BATCH} a flush, ${ROUNDS} rounds, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
for (const v of VARIANTS) {
  const xs = figures.get(v)!;
  const part = v === 'as wired' ? '' : `   (the part left out: ${((asWired - median(xs)) / 1000).toFixed(1)} µs)`;
  console.log(`  ${v.padEnd(18)} main thread ${(median(xs) / 1000).toFixed(1)} µs a decision (rounds ${xs.map((x) => (x / 1000).toFixed(1)).join(', ')})${part}`);
}
sink.flushSync();
site.close();
tmp.cleanup();
