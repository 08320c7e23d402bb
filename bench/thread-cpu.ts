import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per thread of a live process, from /proc/PID/task/TID/schedstat (ns, kept by the
 * scheduler): the figure that does not depend on what else shares the cores, unlike a sweep's
 * wall time. Node 20 has no process.threadCpuUsage and names every thread "node", so a
 * worker's thread is found as the one that appeared when it was spawned (threadsBornDuring).
 */
export function threadCpuNs(pid: number | 'self' = 'self'): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // the process is gone
  }
  for (const tid of tids) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // The thread ended between the listing and its read: it has no CPU left to count.
    }
  }
  return out;
}

/** The threads of this process that exist after `spawn` and did not before it. */
export function threadsBornDuring(spawn: () => void): number[] {
  const before = threadCpuNs();
  spawn();
  return [...threadCpuNs().keys()].filter((tid) => !before.has(tid));
}

/** CPU ms the given threads (all of the snapshot's when `tids` is absent) used between two snapshots; a thread gone by `to` counts 0. */
export function cpuMsBetween(from: Map<number, number>, to: Map<number, number>, tids?: readonly number[]): number {
  let ns = 0;
  for (const tid of tids ?? [...to.keys()]) {
    const end = to.get(tid);
    if (end !== undefined) ns += end - (from.get(tid) ?? 0);
  }
  return ns / 1e6;
}

/** A whole process's CPU ms so far (its live threads). */
export function processCpuMs(pid: number | 'self'): number {
  let ns = 0;
  for (const v of threadCpuNs(pid).values()) ns += v;
  return ns / 1e6;
}
