/**
 * The swipe probe: a process that does nothing but the measured path's two ends, the readers'
 * pty writes and the doors' firmware (SwipeDriver, bench/hardening-swipes.ts: stamp each pulse
 * on arrival, then ack it). The bench that starts it polls the gateway, counts audit rows and
 * runs the other children; none of that shares this loop, so a late timer or a late arrival
 * here is this process's own delay, which it reports with each phase's samples.
 *
 * Driven over the IPC channel by bench/swipe-probe-client.ts, one operation at a time, each
 * answered once. The swipe and its pulse are both stamped here, on one clock, so no timestamp
 * crosses processes. It exits when the bench goes (the channel closes), however the bench ends.
 * Started by the bench: node dist/bench/swipe-probe.js (with an IPC channel).
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import type { Drained, FromProbe, ProbeCounters, ToProbe } from './swipe-probe-client.js';
import { SwipeDriver } from './hardening-swipes.js';
import { loopLateness, startLoopDelay } from './stats.js';

if (process.send === undefined) {
  console.error('swipe-probe.js is started by the hardening bench, with an IPC channel');
  process.exit(2);
}
// The bench gone (ended, killed): nothing to measure for, and a probe left writing into ptys
// would load the machine for whoever measures next.
process.on('disconnect', () => process.exit(0));

let driver: SwipeDriver | null = null;
let abortWhy: string | null = null;
let enough = false;
let lag: IntervalHistogram | null = null;

let last: ProbeCounters = { sent: 0, refused: 0, unexpected: 0, lateOpens: 0 };
/** The driver's counters; after close, the last ones it had. */
const counters = (d: SwipeDriver | null): ProbeCounters => (last = d === null ? last : { sent: d.sent, refused: d.refused, unexpected: d.unexpected, lateOpens: d.lateOpens });
const ready = (): SwipeDriver => {
  if (driver === null) throw new Error('not initialised');
  return driver;
};

async function run(m: Exclude<ToProbe, { op: 'enough' } | { op: 'abort' }>): Promise<unknown> {
  switch (m.op) {
    case 'init': {
      const readers = m.readers.map((r) => ({ doorId: r.doorId, devicePath: r.devicePath, pickCard: () => String(r.cards.base + r.cards.stride * Math.floor(Math.random() * r.cards.count)) }));
      driver = await SwipeDriver.connect(m.brokerUrl, m.siteId, readers, m.commandTtlMs);
      driver.abortIf = () => abortWhy;
      return null;
    }
    case 'warmUp':
      return ready().warmUp(m.rounds);
    case 'begin':
      ready().begin();
      lag?.disable();
      lag = startLoopDelay();
      return null;
    case 'openLoop':
      enough = false;
      return ready().openLoop({ ...m.plan, until: m.waitForEnough ? () => enough : undefined });
    case 'drain': {
      const missing = await ready().drain(m.timeoutMs);
      lag?.disable();
      const loopDelay = lag === null ? { p99Ms: NaN, maxMs: NaN } : loopLateness(lag);
      return { missing, samples: ready().taken(), loopDelay } satisfies Drained;
    }
    case 'close':
      await driver?.close();
      driver = null;
      return null;
  }
}

process.on('message', (m: ToProbe) => {
  if (m.op === 'enough') enough = true;
  else if (m.op === 'abort') abortWhy = m.why;
  else {
    run(m).then(
      (value) => answer({ ok: true, value: value ?? null, counters: counters(driver) }, m.op === 'close'),
      (err: unknown) => answer({ ok: false, error: err instanceof Error ? err.message : String(err) }, false),
    );
  }
});

/** After `close`, the process exits once the answer has been handed to the channel. */
function answer(reply: FromProbe, thenExit: boolean): void {
  process.send?.(reply, undefined, undefined, () => {
    if (thenExit) process.exit(0);
  });
}
