/**
 * What connecting and disconnecting a location by reloads costs and keeps (issue 12): the
 * gateway in-process with two locations, each against its own platform simulator on loopback; a
 * cycle is one reload that disconnects the annex (with revoke: its link stops, its subscription is
 * deleted at the platform) and one that connects it again (a new thread subscribes and sweeps).
 * Prints, every fifth of the run, the process's OS threads, the live upstream threads, RSS and
 * heap after a GC, and at the end the process CPU per cycle (all threads: the link threads'
 * start-up included). Run: npm run build && node --expose-gc dist/bench/location-reload.js [cycles]
 */
import { readFileSync } from 'node:fs';
import { liveUpstreamThreads } from '../src/upstream/upstream-thread-host.js';
import { locationsWorld } from '../test/helpers/locations-world.js';

const CYCLES = Number(process.argv[2] ?? 100);
const cleanups: Array<() => Promise<void> | void> = [];
const w = await locationsWorld(cleanups);
const g = await w.start(w.configFor({ connection: 'connected' }));
const gc = (globalThis as { gc?: () => void }).gc;
const osThreads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
const until = async (f: () => boolean) => {
  while (!f()) await new Promise((r) => setTimeout(r, 20));
};
const mb = (n: number) => Math.round(n / 104_857.6) / 10;
const sample = (label: string) => {
  gc?.();
  const m = process.memoryUsage();
  console.log(JSON.stringify({ label, osThreads: osThreads(), upstreamThreads: liveUpstreamThreads(), rssMB: mb(m.rss), heapMB: mb(m.heapUsed), annexSubscriptions: w.annex.liveSubscriptions().length }));
};

await until(() => w.annex.liveSubscriptions().length === 1 && w.hq.liveSubscriptions().length === 1);
sample('start');
const cpu0 = process.cpuUsage();
for (let i = 1; i <= CYCLES; i++) {
  w.writeSite({ connection: 'disconnected', onDisconnect: 'revoke' });
  await g.reloadFile(w.siteFile);
  w.writeSite({ connection: 'connected' });
  await g.reloadFile(w.siteFile);
  await until(() => w.annex.liveSubscriptions().length === 1);
  // The simulators' request logs live in this process too: emptied, so the heap is the gateway's.
  w.annex.requests.length = 0;
  w.hq.requests.length = 0;
  if (i % Math.max(1, Math.floor(CYCLES / 5)) === 0) sample(`cycle ${i}`);
}
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ cycles: CYCLES, cpuMsPerCycle: Math.round((cpu.user + cpu.system) / CYCLES / 100) / 10, gc: gc !== undefined }));
for (const c of cleanups.reverse()) await c();
