import { setFlagsFromString } from 'node:v8';

/*
 * Why `lintel run` turns V8's parallel scavenge off. A scavenge (the young-generation GC, every
 * few megabytes of allocation) stops the main thread, the one that decides badges, until the
 * young objects still alive are copied. V8 splits that copy among its helper threads and the
 * main thread waits for all of them. The gateway's survivors are tiny (30-50 KB while the change
 * watcher fills 100,000 people: the index lives in typed arrays), so the copy itself takes
 * ~0.2 ms; but on a door controller's two cores, busy with the broker, the serial relays and the
 * gateway's own workers, a helper thread is often not scheduled for milliseconds, and the main
 * thread waits with it (measured: bench/bulk-apply-gc.ts, the same fill with the helpers on
 * gave 5-18 pauses over 2 ms and 66-107 ms of pauses in all, without them 0-7 and 11-55 ms).
 * Done alone on the main thread the short copy does not wait for anyone. Concurrent marking and
 * sweeping stay on: they run beside the main thread, not in its pauses.
 */

const FLAG = /^--(no-)?parallel[-_]scavenge$/;

/**
 * Turns parallel scavenge off for this process (every isolate: the workers' scavenges are short
 * too). An explicit `--parallel-scavenge` or `--no-parallel-scavenge` on node's command line is
 * left as it is: the benches compare both that way. Returns whether it changed the flag.
 */
export function tuneGcForLatency(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => FLAG.test(a))) return false;
  setFlagsFromString('--no-parallel-scavenge');
  return true;
}
