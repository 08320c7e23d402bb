/**
 * Process plumbing for the hardening bench: every child it starts is tracked so that any way
 * out (a thrown error, the deadline, Ctrl-C, SIGTERM from CI) ends them, and the whole run is
 * bounded in time. A bench that leaves a 1 GB gateway, a broker and twenty socat processes
 * behind on a shared two-core machine spoils every figure measured after it.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const children = new Set<ChildProcess>();
const cleanups: Array<() => void> = [];

/** Runs at process exit, newest first. Must be synchronous (an exit handler cannot await). */
export function onExit(fn: () => void): void {
  cleanups.push(fn);
}

process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // best effort: the remaining cleanups must still run
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`hardening bench: ${signal}; stopping every child`);
    process.exit(130);
  });
}

/** Ends the run (children included) if it is not over within `ms`; never keeps the process alive. */
export function startDeadline(ms: number): void {
  const timer = setTimeout(() => {
    console.error(`hardening bench: not finished within ${Math.round(ms / 1000)} s; giving up`);
    process.exit(1);
  }, ms);
  timer.unref();
}

export function spawnTracked(command: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, opts);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', (err) => console.error(`hardening bench: ${command} ${args[0] ?? ''}: ${err.message}`));
  return child;
}

/**
 * How much nicer than the bench the processes run that stand for other machines on a site (the
 * booking platform, API clients, the load readers and their doors): REMOTE_NICE, default 0 (all
 * at one priority, as before). On a site they use no CPU of the door-controller host; here they
 * share its two cores with the gateway, and at the same priority a load generator's burst is
 * charged to the gateway's swipes. The measuring probe, Mosquitto and socat stay as they are:
 * the first is the instrument, the others run on the site's host too.
 */
export const REMOTE_NICE = Number(process.env.REMOTE_NICE ?? 0);

/** spawnTracked for a process that stands for another machine: under `nice -n REMOTE_NICE` when set. */
export function spawnRemote(command: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  if (REMOTE_NICE <= 0) return spawnTracked(command, args, opts);
  // nice execs the command: same pid, and every thread of it starts at that priority.
  return spawnTracked('nice', ['-n', String(REMOTE_NICE), command, ...args], opts);
}

/** True while the child has neither exited nor been killed. */
export function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves when the child exits; `code` is null when a signal ended it. */
export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (!alive(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGTERM, then SIGKILL after `graceMs`. Says which one ended it (a hang on stop is a finding). */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<'exited' | 'sigkill'> {
  if (!alive(child)) return 'exited';
  const exited = exitOf(child);
  child.kill('SIGTERM');
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
  return killed ? 'sigkill' : 'exited';
}

/** Line-by-line stdout of a child, with "wait for the line that says X". */
export class ChildLines {
  private readonly seen: string[] = [];
  private waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  constructor(private readonly child: ChildProcess) {
    if (!child.stdout) throw new Error('child has no piped stdout');
    createInterface({ input: child.stdout }).on('line', (line) => {
      const waiter = this.waiters.find((w) => w.test(line));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(line);
      } else {
        this.seen.push(line);
      }
    });
  }

  /** The first line (already seen or still to come) that passes `test`. */
  next(test: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    const i = this.seen.findIndex(test);
    if (i >= 0) return Promise.resolve(this.seen.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${what}: ${why}`));
      };
      const timer = setTimeout(() => fail(`nothing within ${timeoutMs} ms`), timeoutMs);
      const onExit = (code: number | null) => fail(`the child exited (${code}) first`);
      const done = (line: string) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        resolve(line);
      };
      this.child.once('exit', onExit);
      this.waiters.push({ test, resolve: done });
    });
  }
}

/** Resident and peak resident memory of a live process, from /proc (Linux), in MB. */
export function memoryOf(pid: number | undefined): { rssMb: number; peakMb: number } | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a live process has used so far, in seconds, from /proc/PID/stat. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime the 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop()!.trim().split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/**
 * CPU time of a live process's threads so far, in ns: the whole process (the threads alive now;
 * one that ended is not counted) and its main thread. From /proc/PID/task/TID/schedstat, which
 * the scheduler keeps in ns: per read of a 1,000-read block, utime's 10 ms ticks are too coarse.
 */
export function threadCpuNsOf(pid: number | undefined): { all: number; main: number } {
  if (pid === undefined) return { all: NaN, main: NaN };
  let all = 0;
  let main = NaN;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      all += ns;
      if (tid === String(pid)) main = ns;
    }
    return { all, main };
  } catch {
    return { all: NaN, main: NaN }; // gone, or a thread ended between the listing and its read
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
