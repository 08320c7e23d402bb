/**
 * The bench's side of the swipe probe (bench/swipe-probe.ts): a child process that is the only
 * thing on the measured path's two ends, the readers' pty writes and the doors' firmware
 * (stamp each pulse, ack it). On a site those are separate hardware; in the bench process they
 * shared a loop with /api/status polls, audit counts and child plumbing, and every ms of that
 * loop's delay was stamped onto arrivals and charged to the gateway.
 *
 * Same surface as SwipeDriver (bench/hardening-swipes.ts), which the probe runs inside itself:
 * a phase's plan goes in as one message, its samples come out as one message after the drain,
 * so nothing crosses the channel while swipes are in flight except, at most once each, "enough"
 * (the plan's `until` turned true here) and "abort" (`abortIf` said the gateway is gone).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { alive, spawnRemote, spawnTracked } from './hardening-procs.js';
import type { LoopPlan } from './hardening-swipes.js';

/** A reader as the probe sees it: its cards are `base + stride × j` for a uniform j < count. */
export interface ProbeReader {
  doorId: string;
  devicePath: string;
  cards: { base: number; stride: number; count: number };
}

export interface ProbeCounters {
  sent: number;
  refused: number;
  unexpected: number;
  lateOpens: number;
}

/** How late the probe's own loop ran since begin() (bench/stats.ts loopLateness): what could still stamp an arrival late. */
export interface ProbeLoopDelay {
  p99Ms: number;
  maxMs: number;
}

export type ProbeOp =
  | { op: 'init'; brokerUrl: string; siteId: string; readers: ProbeReader[]; commandTtlMs: number }
  | { op: 'warmUp'; rounds: number }
  | { op: 'begin' }
  | { op: 'openLoop'; plan: Omit<LoopPlan, 'until'>; waitForEnough: boolean }
  | { op: 'drain'; timeoutMs: number }
  | { op: 'close' };
export type ToProbe = ProbeOp | { op: 'enough' } | { op: 'abort'; why: string };
export type FromProbe = { ok: true; value: unknown; counters: ProbeCounters } | { ok: false; error: string };

export interface Drained {
  missing: number;
  samples: number[];
  loopDelay: ProbeLoopDelay;
}

/** The built probe, from this file compiled into dist/bench/ or run as TypeScript by a test. */
const PROBE = join(import.meta.dirname, import.meta.dirname.includes('/dist/') ? '.' : '../dist/bench', 'swipe-probe.js');
/** How often the bench looks at `until` and `abortIf` while the probe runs a phase. */
const POLL_MS = 20;

export class SwipeProbe implements ProbeCounters {
  sent = 0;
  refused = 0;
  unexpected = 0;
  lateOpens = 0;
  /** The last drain's probe loop delay (since the phase's begin()). */
  loopDelay: ProbeLoopDelay = { p99Ms: NaN, maxMs: NaN };
  /** Polled while the probe works: when it says the gateway is gone, the probe stops with this error. */
  abortIf: () => string | null = () => null;
  private samples: number[] = [];
  private pending: { resolve: (v: unknown) => void; reject: (e: Error) => void } | null = null;
  private exitWhy: string | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromProbe) => this.settle(m));
    child.once('exit', (code, signal) => {
      this.exitWhy = `swipe probe exited (${code ?? signal})`;
      this.pending?.reject(new Error(this.exitWhy));
      this.pending = null;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** `remote`: the load probe, standing for other readers and doors (REMOTE_NICE); the measuring probe is not. */
  static async start(brokerUrl: string, siteId: string, readers: ProbeReader[], commandTtlMs: number, remote = false): Promise<SwipeProbe> {
    const spawnProbe = remote ? spawnRemote : spawnTracked;
    const probe = new SwipeProbe(spawnProbe(process.execPath, [PROBE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await probe.call({ op: 'init', brokerUrl, siteId, readers, commandTtlMs });
    return probe;
  }

  async warmUp(rounds: number): Promise<void> {
    await this.call({ op: 'warmUp', rounds });
  }

  /** Starts a new set of samples (a phase) and the probe's loop-delay histogram. */
  async begin(): Promise<void> {
    this.samples = [];
    await this.call({ op: 'begin' });
  }

  openLoop(plan: LoopPlan): Promise<{ swipes: number; ms: number }> {
    const { until, ...rest } = plan;
    return this.call({ op: 'openLoop', plan: rest, waitForEnough: until !== undefined }, until) as Promise<{ swipes: number; ms: number }>;
  }

  /** Waits until every swipe has its pulse or `timeoutMs` pass; returns how many got none. */
  async drain(timeoutMs: number): Promise<number> {
    const d = (await this.call({ op: 'drain', timeoutMs })) as Drained;
    this.samples = d.samples;
    this.loopDelay = d.loopDelay;
    return d.missing;
  }

  /** The samples since begin(), in ns, as of the last drain. */
  taken(): number[] {
    return this.samples;
  }

  async close(): Promise<void> {
    if (!alive(this.child)) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call({ op: 'close' });
    await exited;
  }

  /** One operation at a time; while it runs, `until` and `abortIf` are watched here, not in the probe. */
  private async call(msg: ProbeOp, until?: () => boolean): Promise<unknown> {
    if (this.exitWhy !== null) throw new Error(this.exitWhy);
    if (this.pending !== null) throw new Error(`swipe probe: ${msg.op} while another operation runs`);
    const result = new Promise<unknown>((resolve, reject) => (this.pending = { resolve, reject }));
    this.child.send(msg);
    let abortSent = false;
    let enoughSent = false;
    const watch = setInterval(() => {
      try {
        const why = abortSent ? null : this.abortIf();
        if (why !== null) {
          abortSent = true;
          this.child.send({ op: 'abort', why } satisfies ToProbe);
        }
        if (!enoughSent && until?.() === true) {
          enoughSent = true;
          this.child.send({ op: 'enough' } satisfies ToProbe);
        }
      } catch (err) {
        this.pending?.reject(err as Error);
        this.pending = null;
      }
    }, POLL_MS);
    try {
      return await result;
    } finally {
      clearInterval(watch);
    }
  }

  private settle(m: FromProbe): void {
    const p = this.pending;
    this.pending = null;
    if (p === null) return;
    if (!m.ok) return p.reject(new Error(`swipe probe: ${m.error}`));
    Object.assign(this, m.counters);
    p.resolve(m.value);
  }
}
