import { closeSync, openSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

/*
 * The built `lintel run` as a child process, as systemd starts it: the resilience suite kills,
 * signals and restarts it, so everything here is about its lifecycle seen from outside —
 * stderr (pino JSON lines), the exit, and when its HTTP status says it can decide again.
 */

export { CLI } from './cli-path.js';
import { CLI } from './cli-path.js';

export interface StatusSnapshot {
  health: 'ok' | 'degraded' | 'failing';
  checks: Record<string, { ok: boolean; detail: string }>;
  index: { people: number; cards: number; grants: number; doors: number };
  readers: Array<{ id: string; connected: boolean; lines: number; dropped: { overlong: number; garbage: number }; reconnects: number; lastError: string | null }>;
  mqtt: { connected: boolean };
  upstream: {
    state: string;
    lastError: string | null;
    lastSuccessAt: number | null;
    detail?: { lastReconcile: unknown; subscriptions: Array<{ state: string }> };
  } | null;
  recent: Array<{ readerId: string; credential: string; result: string; reason: string; relay: string; at: number }>;
}

export interface LintelProcess {
  readonly child: ChildProcess;
  readonly spawnedAt: number;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** Parsed JSON log lines so far (non-JSON lines are skipped). */
  logs(): Array<Record<string, unknown>>;
  alive(): boolean;
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`: a test run never leaves a gateway behind. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/**
 * Starts `node dist/src/cli.js ARGS` (or another build's cli.js: an installed package's);
 * stdout is ignored, stderr kept (the last 2 MB). `nodeArgs` go to node itself (a bench's
 * --cpu-prof: NODE_OPTIONS refuses it). LINTEL_STDOUT_FILE=PATH in the bench's environment
 * appends stdout there instead (what a bench's --trace-gc prints).
 */
export function spawnLintel(args: string[], env: NodeJS.ProcessEnv = {}, cli = CLI, nodeArgs: readonly string[] = []): LintelProcess {
  const outFile = process.env.LINTEL_STDOUT_FILE;
  const stdout = outFile ? openSync(outFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], { stdio: ['ignore', stdout, 'pipe'], env: { ...process.env, ...env } });
  if (typeof stdout === 'number') closeSync(stdout);
  running.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 4_000_000) err = err.slice(-2_000_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    spawnedAt: Date.now(),
    exited,
    stderr: () => err,
    logs: () => parseLogLines(err),
    alive,
    kill9: async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    stop: async (graceMs = 5000) => {
      if (alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

export function parseLogLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by SIGKILL mid-write
    }
  }
  return out;
}

/**
 * The failing checks other than the doors': the resilience sites run no door controller (a
 * plain subscriber records the unlocks), so every `door:<id>` check fails there by design
 * (status-builder.ts doorCheck), and a fault under test must show in another check.
 */
export function failingBesideDoors(s: StatusSnapshot): string[] {
  return Object.entries(s.checks).filter(([key, c]) => !c.ok && !key.startsWith('door:')).map(([key]) => key);
}

export async function fetchStatus(port: number, timeoutMs = 2000): Promise<StatusSnapshot | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return null;
    return (await res.json()) as StatusSnapshot;
  } catch {
    return null;
  }
}

/**
 * The gateway's booking link has settled: it holds an active subscription and finished a first
 * sweep. Its thread writes both after the platform answers, so the platform having seen the
 * subscription request is not enough before a test compares stored state.
 */
export async function waitForUpstreamSettled(port: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    'booking link settled',
    async () => {
      const d = (await fetchStatus(port))?.upstream?.detail;
      return d && d.lastReconcile !== null && d.subscriptions.some((s) => s.state === 'active') ? true : undefined;
    },
    timeoutMs,
  );
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` with a real timer until it yields a value; these tests wait on other processes. */
export async function waitFor<T>(what: string, fn: () => T | undefined | null | Promise<T | undefined | null>, ms = 10_000, everyMs = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface ReadyOptions {
  port: number;
  /** Readers that must show connected (default: all in the status). */
  readers?: number;
  mqtt?: boolean;
  timeoutMs?: number;
}

/**
 * Ready = the HTTP status answers, the database is open, MQTT is connected and every reader
 * is connected: from then on a badge gets a decision and a granted one reaches the door.
 * Returns milliseconds since spawn. Fails at once if the process exits meanwhile.
 */
export async function waitReady(p: LintelProcess, opts: ReadyOptions): Promise<number> {
  await waitFor(
    'gateway ready',
    async () => {
      if (!p.alive()) throw new Error(`lintel exited before it was ready: ${p.stderr().slice(-3000)}`);
      const s = await fetchStatus(opts.port, 1000);
      if (!s || s.checks.database?.ok !== true) return undefined;
      if ((opts.mqtt ?? true) && !s.mqtt.connected) return undefined;
      const want = opts.readers ?? s.readers.length;
      return s.readers.filter((r) => r.connected).length >= want ? true : undefined;
    },
    opts.timeoutMs ?? 20_000,
  );
  return Date.now() - p.spawnedAt;
}

/** Resident set size of a live process in MB, from /proc (Linux). */
export async function rssMb(pid: number): Promise<number | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(text);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Waits until `fn` holds (a broker round trip, a door pulse), polling every 20 ms; throws naming `what` past `ms`. */
export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  await waitFor(what, async () => ((await fn()) ? true : undefined), ms, 20);
}
