/**
 * End to end: card line written into a pty → pulse command received by a subscriber on a local
 * Mosquitto, p50/p99 over READS reads per path (default 1,000).
 *
 * Topology as on a site: the system under test runs as its own process and this driver plays
 * the hardware on both sides (it writes the reader's line into the pty and subscribes as the
 * door firmware). Two systems under test, measured in the same run with reads alternating so
 * machine noise hits both alike:
 *   gateway — the built `lintel run` with a config file (SQLite, audit, logs at info, metrics)
 *   bare    — bench/bare-path.ts: pty → serialport → Map lookup → mqtt.js → broker, nothing else
 * Run: npm run build && node dist/bench/e2e-pty.js      Target: p50 ≤ 1.1×, p99 ≤ 1.25× bare.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, startTestBroker } from '../test/helpers/broker.js';
import { startSocatPty } from '../test/helpers/pty.js';
import { fmtUs, percentiles } from './stats.js';

const READS = Number(process.env.READS ?? 1000);
const WARMUP = 200;
const CARD = '7340861';
const CLI = new URL('../src/cli.js', import.meta.url).pathname;
const BARE = new URL('./bare-path.js', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'lintel-bench-'));
const broker = await startTestBroker();
const gwPty = await startSocatPty(dir, 'gw');
const barePty = await startSocatPty(dir, 'bare');

const httpPort = await freePort();
const config = join(dir, 'lintel.yaml');
writeFileSync(
  config,
  [
    'site: { id: bench }',
    `dataDir: ${join(dir, 'data')}`,
    `http: { host: 127.0.0.1, port: ${httpPort} }`,
    `mqtt: { url: "${broker.url}", protocolVersion: ${broker.protocolVersions.includes(5) ? 5 : 4} }`,
    'doors: [{ id: front }]',
    `readers: [{ id: r, kind: serial, path: "${gwPty.gatewaySide}", terminator: crlf, cardFormat: decimal, door: front }]`,
  ].join('\n'),
);
writeFileSync(join(dir, 'cards.csv'), `email,card,doors\nbench@example.com,${CARD},front\n`);
execFileSync(process.execPath, [CLI, 'cards', 'import', join(dir, 'cards.csv'), '-c', config]);

// Both systems write their output straight to /dev/null (as to a journal): the driver must not
// spend its own event loop draining the gateway's per-decision log lines.
const devNull = openSync('/dev/null', 'w');
const children: ChildProcess[] = [];
for (const args of [[CLI, 'run', '-c', config], [BARE, barePty.gatewaySide, broker.url, CARD]]) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', devNull, devNull] });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`${args[0]} exited ${code}`);
  });
  children.push(child);
}
await waitForGateway();

const sub = await mqtt.connectAsync(broker.url, { protocolVersion: broker.protocolVersions.includes(5) ? 5 : 4 });
let arrived: (() => void) | null = null;
sub.on('message', () => arrived?.());
await sub.subscribeAsync(['lintel/bench/doors/front/cmd', 'bench/bare/front/cmd'], { qos: 1 });

const gwFd = openSync(gwPty.deviceSide, 'w');
const bareFd = openSync(barePty.deviceSide, 'w');

async function once(fd: number): Promise<number> {
  const got = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pulse within 5 s')), 5000);
    arrived = () => {
      clearTimeout(timer);
      arrived = null;
      resolve();
    };
  });
  const t0 = process.hrtime.bigint();
  writeSync(fd, `${CARD}\r\n`);
  await got;
  return Number(process.hrtime.bigint() - t0);
}

// Warm-up also waits out the gateway's broker connect and the reader's first open.
for (let i = 0; i < WARMUP; i++) {
  await once(gwFd).catch(() => once(gwFd));
  await once(bareFd);
}
const gw = new Float64Array(READS);
const bare = new Float64Array(READS);
for (let i = 0; i < READS; i++) {
  if (i % 2 === 0) {
    gw[i] = await once(gwFd);
    bare[i] = await once(bareFd);
  } else {
    bare[i] = await once(bareFd);
    gw[i] = await once(gwFd);
  }
}

const g = percentiles(gw);
const b = percentiles(bare);
console.log(`e2e bench: ${READS} reads per path after ${WARMUP} warm-up, broker ${broker.kind}, separate processes`);
console.log(`  gateway  pty → lintel run → broker → subscriber:           p50 ${fmtUs(g.p50)}  p99 ${fmtUs(g.p99)}`);
console.log(`  bare     pty → serialport → Map → mqtt.js → subscriber:   p50 ${fmtUs(b.p50)}  p99 ${fmtUs(b.p99)}`);
console.log(`  ratio    p50 ${(g.p50 / b.p50).toFixed(3)}× (target ≤ 1.1)   p99 ${(g.p99 / b.p99).toFixed(3)}× (target ≤ 1.25)`);

closeSync(devNull);
closeSync(gwFd);
closeSync(bareFd);
await sub.endAsync();
for (const c of children) {
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await exited;
}
await gwPty.stop();
await barePty.stop();
await broker.stop();
rmSync(dir, { recursive: true, force: true });

async function waitForGateway(): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`);
      const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
      if (Object.values(body.checks).every((c) => c.ok)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error('gateway did not become healthy');
    await new Promise((r) => setTimeout(r, 50));
  }
}
