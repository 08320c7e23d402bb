/**
 * The first start of the real `lintel run` on a 1,000,000-card database (issue 10), alone and
 * repeated: bench/scale.ts measures it once in a 4-minute run among other figures, which is too
 * few and too slow to compare two loaders on a shared 2-core box. Each round:
 *   1. no snapshot file: `lintel run` → every health check ok (the index from the tables),
 *      RSS and CPU time then, and the gateway's own index log line
 *   2. SIGTERM (the snapshot is written), start again: the restart from the snapshot, likewise
 * The database is built once by the product's `cards import` (as scale.ts does) and may be kept
 * for later runs (KEEP_DIR=/path: built there if missing, never removed). CLI=/path/to/cli.js
 * runs another build against the same data (old vs new in one session).
 *
 * Run: npm run build && node dist/bench/first-start.js      Env: CARDS, ROUNDS, KEEP_DIR, CLI.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startTestBroker } from '../test/helpers/broker.js';
import { startSocatPty, type SocatPty } from '../test/helpers/pty.js';
import { CLI as OWN_CLI, announceDoors, doorId, readerId, runCardImport, waitForHealthy, writeCardCsv, gatewayConfigLines } from './hardening-data.js';
import { alive, cpuSecondsOf, memoryOf, onExit, spawnTracked, startDeadline, stopChild } from './hardening-procs.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const CARDS = env('CARDS', 1_000_000);
const ROUNDS = env('ROUNDS', 2);
const READERS = 20;
const CLI = process.env.CLI ?? OWN_CLI;

startDeadline(env('DEADLINE_SEC', 900) * 1000);
const keep = process.env.KEEP_DIR;
const dir = keep ?? mkdtempSync(join(tmpdir(), 'lintel-first-start-'));
if (keep) mkdirSync(keep, { recursive: true });
else onExit(() => rmSync(dir, { recursive: true, force: true }));
const work = mkdtempSync(join(tmpdir(), 'lintel-first-start-run-'));
onExit(() => rmSync(work, { recursive: true, force: true }));
const load = () => loadavg()[0]!.toFixed(2);
console.log(`first-start bench: ${CARDS.toLocaleString()} cards, ${CLI}, load average ${load()} at start`);

const tmpBefore = process.env.TMPDIR;
process.env.TMPDIR = work; // the broker helper's own temp dir goes with ours
const broker = await startTestBroker();
if (tmpBefore === undefined) delete process.env.TMPDIR;
else process.env.TMPDIR = tmpBefore;
onExit(() => void broker.stop());
const ptys: SocatPty[] = [];
for (let k = 0; k < READERS; k++) {
  const pty = await startSocatPty(work, readerId(k));
  onExit(() => void pty.stop());
  ptys.push(pty);
}
const httpPort = await freePort();
const dataDir = join(dir, 'data');
const config = join(work, 'lintel.yaml');
writeFileSync(config, [...gatewayConfigLines({ dataDir: dataDir, httpPort, brokerUrl: broker.url, readerPaths: ptys.map((p) => p.gatewaySide) }), ''].join('\n'));

await announceDoors(broker.url, ptys.map((_, k) => doorId(k)));

if (!existsSync(join(dataDir, 'lintel.db'))) {
  const csv = join(work, 'cards.csv');
  writeCardCsv(csv, 0, CARDS, READERS);
  const base = await runCardImport(config, csv, 600_000);
  if (base.code !== 0) throw new Error(`base import failed (${base.code}): ${base.output}`);
  rmSync(csv);
  console.log(`  database built: cards import ${(base.ms / 1000).toFixed(1)} s`);
}

/** The gateway's own account of its index load (index-start.ts), from its JSON log. */
function indexLog(file: string): string {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"index ')) continue;
    const l = JSON.parse(line) as { msg: string; ms?: number; snapshot?: string; worker?: boolean };
    const how = l.worker === undefined ? '' : l.worker ? ', on a worker' : ', on the main thread';
    if (l.msg.startsWith('index restored') || l.msg.startsWith('index loaded')) return `${l.msg} in ${l.ms} ms${l.snapshot ? ` (${l.snapshot}${how})` : ''}`;
  }
  return 'no index log line';
}

/** What the gateway said about the snapshot at its stop (written, or why not). */
function snapshotLog(file: string): string {
  const said = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes('snapshot') && !line.includes('"index loaded') && !line.includes('"index restored'))
    .map((line) => {
      const l = JSON.parse(line) as { msg: string; ms?: number; err?: string };
      return `${l.msg}${l.ms === undefined ? '' : ` in ${l.ms} ms`}${l.err ? ` (${l.err})` : ''}`;
    });
  return said.length > 0 ? said.join('; ') : 'nothing about the snapshot';
}

async function start(label: string): Promise<void> {
  const logFile = join(work, `${label}.log`);
  const logFd = openSync(logFile, 'w');
  const loadAt = load();
  const startedAt = performance.now();
  const gateway = spawnTracked(process.execPath, [CLI, 'run', '-c', config], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  await waitForHealthy(httpPort, 180_000, () => alive(gateway));
  const readyMs = performance.now() - startedAt;
  const cpu = cpuSecondsOf(gateway.pid);
  const mem = memoryOf(gateway.pid);
  const stopAt = performance.now();
  await stopChild(gateway, 20_000);
  const snap = join(dataDir, 'lintel.index');
  const left = existsSync(snap) ? `snapshot file ${(statSync(snap).size / 1048576).toFixed(0)} MB, ${((Date.now() - statSync(snap).mtimeMs) / 1000).toFixed(0)} s old` : 'no snapshot file';
  console.log(
    `  ${label}: ready ${readyMs.toFixed(0)} ms, CPU ${cpu.toFixed(2)} s, RSS ${mem?.rssMb.toFixed(0)} MB (peak ${mem?.peakMb.toFixed(0)} MB), load ${loadAt}; ` +
      `${indexLog(logFile)}; stop ${(performance.now() - stopAt).toFixed(0)} ms: ${snapshotLog(logFile)}; ${left}`,
  );
}

for (let round = 1; round <= ROUNDS; round++) {
  rmSync(join(dataDir, 'lintel.index'), { force: true });
  await start(`round ${round} first start (tables)`);
  await start(`round ${round} restart (snapshot)`);
}
process.exit(0);
