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
 *             (publishing a pre-built command of the same size with the same QoS and expiry)
 * Run: npm run build && node dist/bench/e2e-pty.js      Target: p50 ≤ 1.1×, p99 ≤ 1.25× bare.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { DoorAck, PulseCommand, topics } from '../src/doors/protocol.js';
import { freePort, startTestBroker } from '../test/helpers/broker.js';
import { startSocatPty } from '../test/helpers/pty.js';
import { fmtUs, percentiles } from './stats.js';

const READS = Number(process.env.READS ?? 1000);
const WARMUP = 200;
/**
 * Idle time before each read. Badge reads on one host arrive seconds apart, not back to back;
 * with no gap each system's leftover work (the gateway's audit commit, either's next serial
 * poll) lands inside the next measured read, whichever path that belongs to. GAP_MS=0 gives
 * the back-to-back figure.
 */
const GAP_MS = Number(process.env.GAP_MS ?? 5);
const CARD = '7340861';
const GW_CMD = 'lintel/bench/doors/front/cmd';
const GW_ACK = 'lintel/bench/doors/front/ack';
const BARE_CMD = topics('lintel', 'bare').cmd('front');
const CLI = new URL('../src/cli.js', import.meta.url).pathname;
const BARE = new URL('./bare-path.js', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'lintel-bench-'));
const broker = await startTestBroker();
const PROTOCOL = broker.protocolVersions.includes(5) ? 5 : 4;
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
    `mqtt: { url: "${broker.url}", protocolVersion: ${PROTOCOL} }`,
    'doors: [{ id: front }]',
    `readers: [{ id: r, kind: serial, path: "${gwPty.gatewaySide}", terminator: crlf, cardFormat: decimal, door: front }]`,
  ].join('\n'),
);
const cardsCsv = join(dir, 'cards.csv');
writeFileSync(cardsCsv, `email,card,doors\nbench@example.com,${CARD},front\n`);
execFileSync(process.execPath, [CLI, 'cards', 'import', cardsCsv, '-c', config]);

// Both systems write their output straight to /dev/null (as to a journal): the driver must not
// spend its own event loop draining the gateway's per-decision log lines.
const devNull = openSync('/dev/null', 'w');
const children: ChildProcess[] = [];
for (const args of [[CLI, 'run', '-c', config], [BARE, cardsCsv, broker.url, String(PROTOCOL), 'bare', `front=${barePty.gatewaySide}`]]) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', devNull, devNull] });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`${args[0]} exited ${code}`);
  });
  children.push(child);
}
await waitForGateway();

const sub = await mqtt.connectAsync(broker.url, { protocolVersion: PROTOCOL });
(sub.stream as import('node:net').Socket).setNoDelay(true); // as door firmware does (lwIP TCP_NODELAY)
let arrived: ((at: bigint) => void) | null = null;
sub.on('message', (topic, payload) => {
  arrived?.(process.hrtime.bigint());
  // The driver is also the door: it acks the gateway's command as firmware does, after the
  // arrival time is taken, so the gateway handles its ack between reads as on a site.
  if (topic === GW_CMD) {
    const command = PulseCommand.parse(payload);
    sub.publish(GW_ACK, new DoorAck(command.id, 'executed', Date.now()).serialize(), { qos: 1 });
  }
});
await sub.subscribeAsync([GW_CMD, BARE_CMD], { qos: 1 });

const gwFd = openSync(gwPty.deviceSide, 'w');
const bareFd = openSync(barePty.deviceSide, 'w');

async function once(fd: number): Promise<number> {
  if (GAP_MS > 0) await new Promise((r) => setTimeout(r, GAP_MS));
  const got = new Promise<bigint>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pulse within 5 s')), 5000);
    arrived = (at) => {
      clearTimeout(timer);
      arrived = null;
      resolve(at);
    };
  });
  const t0 = process.hrtime.bigint();
  writeSync(fd, `${CARD}\r\n`);
  return Number((await got) - t0);
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
console.log(`e2e bench: ${READS} reads per path after ${WARMUP} warm-up, ${GAP_MS} ms apart, broker ${broker.kind}, separate processes`);
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
      // door:<id> waits for a controller's state report; the bench's firmware only takes commands.
      if (Object.entries(body.checks).every(([name, c]) => c.ok || name.startsWith('door:'))) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error('gateway did not become healthy');
    await new Promise((r) => setTimeout(r, 50));
  }
}
