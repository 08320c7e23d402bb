/**
 * What one provisioning request costs the gateway's MAIN thread, load-independent (issue 12):
 * the real `lintel run` with --trace-gc-nvp, its output in a log file; N single person PUTs
 * from the load process (8 in flight), then N GETs of one person, then N plan subscription PUTs
 * (their people made by one bulk first, not counted). Per phase it prints the main
 * thread's CPU (/proc/PID/task/PID/schedstat: TID == PID is the main thread) per request, and
 * the bytes V8 allocated on the main isolate (trace-gc-nvp's `allocated`, summed over the
 * phase's scavenges) per request. Neither depends on how busy the machine is.
 *
 *   npm run build && node dist/bench/api-main-cost.js [requests=3000]
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResilienceSite } from '../test/helpers/resilience-site.js';
import { CLI } from '../test/helpers/lintel-process.js';
import { gcBetween, logSize } from './gc-trace.js';
import { spawnRemote } from './hardening-procs.js';

const N = Number(process.argv[2] ?? 3000);
const LOAD = new URL('./provisioning-load.js', import.meta.url).pathname;
const NODE_ARGS = ['--trace-gc-nvp', ...(process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];

/** The main thread's CPU so far, in ns (the first field of schedstat: time on a CPU). */
const mainCpuNs = (pid: number) => Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);

function load(base: string, token: string, phase: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnRemote(process.execPath, [LOAD, base, token, phase, String(count)], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${phase} load exited ${code}`))));
  });
}

async function getMany(url: string, token: string, count: number): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next++ < count) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`GET ${res.status}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}

const site = await ResilienceSite.create({
  readers: 1,
  logLevel: 'warn',
  configure: (o) => ({ ...o, extra: { zones: { lobby: { doors: [o.doors[0]!.id] } }, accessGroups: { members: { zones: [{ zone: 'lobby' }] } } } }),
});
// Kept after the run (API_COST_LOG), to read the GC lines again.
const logFile = process.env.API_COST_LOG ?? join(site.dir, 'gateway.log');
const logFd = openSync(logFile, 'w');
const gateway = spawn(process.execPath, [...NODE_ARGS, CLI, 'run', '-c', site.configFile], { stdio: ['ignore', logFd, logFd] });
closeSync(logFd);
try {
  for (let i = 0; ; i++) {
    if (i > 200) throw new Error(`not ready: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    const ok = await fetch(`http://127.0.0.1:${site.httpPort}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const made = spawnSync(process.execPath, [CLI, 'token', 'create', '--scope', 'write', '--name', 'bench', '--json', '-c', site.configFile], { encoding: 'utf8' });
  const { token } = JSON.parse(made.stdout) as { token: string };
  const base = `http://127.0.0.1:${site.httpPort}/api/v1`;
  const pid = gateway.pid!;
  // The people the subscriptions name (p0@…, one bulk, not counted), then a warm-up of the same
  // requests as the phases: the JIT and the connections, not counted either.
  await load(base, token, 'bulk', N + 300);
  await load(base, token, 'puts', 300);
  await getMany(`${base}/people/single-1@bench.example`, token, 300);
  await load(base, token, 'subscriptions', 300);
  const phase = async (name: string, run: () => Promise<void>) => {
    const [cpu0, log0] = [mainCpuNs(pid), logSize(logFile)];
    await run();
    await new Promise((r) => setTimeout(r, 200));
    const gc = gcBetween(logFile, log0, logSize(logFile));
    const cpu = (mainCpuNs(pid) - cpu0) / 1e3 / N;
    console.log(`${name.padEnd(18)} main thread: ${cpu.toFixed(0)} µs CPU/request, ${(gc.allocated / 1024 / N).toFixed(1)} KB allocated/request, ${((gc.scavenges.length * 1000) / N).toFixed(1)} scavenges and ${gc.markCompacts.length} mark-compacts per 1,000 requests`);
  };
  console.log(`main-thread cost of /api/v1 — ${N} requests a phase, 8 in flight (schedstat of TID==PID; --trace-gc-nvp allocated on the main isolate)`);
  await phase('person PUTs', () => load(base, token, 'puts', N));
  await phase('person GETs', () => getMany(`${base}/people/single-1@bench.example`, token, N));
  await phase('subscription PUTs', () => load(base, token, 'subscriptions', N));
} finally {
  gateway.kill('SIGTERM');
  await new Promise((r) => gateway.once('exit', r));
  await site.close();
}
