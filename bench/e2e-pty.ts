/**
 * End to end: card line written into a pty → pulse command received by a subscriber on a local
 * Mosquitto, p50/p99 over READS reads (default 1,000), against a bare reference path measured
 * in the same run: pty → serialport → Map lookup → mqtt.js → the same broker → subscriber.
 * Reads alternate between the two paths so machine noise hits both alike.
 * Run: npm run build && node dist/bench/e2e-pty.js      Target: p50 ≤ 1.1×, p99 ≤ 1.25× bare.
 */
import { ReadlineParser } from '@serialport/parser-readline';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { SerialPort } from 'serialport';
import { parseConfig } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { importCards } from '../src/store/card-import.js';
import { createLogger } from '../src/util/log.js';
import { startTestBroker } from '../test/helpers/broker.js';
import { startSocatPty } from '../test/helpers/pty.js';
import { fmtUs, percentiles } from './stats.js';

const READS = Number(process.env.READS ?? 1000);
const WARMUP = 100;
const CARD = '7340861';

const dir = mkdtempSync(join(tmpdir(), 'lintel-bench-'));
const broker = await startTestBroker();
const gwPty = await startSocatPty(join(dir));
const barePtyDir = mkdtempSync(join(tmpdir(), 'lintel-bench-bare-'));
const barePty = await startSocatPty(barePtyDir);

// --- the gateway path
const config = parseConfig({
  site: { id: 'bench' },
  dataDir: join(dir, 'data'),
  http: { host: '127.0.0.1', port: 0 },
  mqtt: { url: broker.url, protocolVersion: broker.protocolVersions.includes(5) ? 5 : 4 },
  doors: [{ id: 'front' }],
  readers: [{ id: 'r', kind: 'serial', path: gwPty.gatewaySide, terminator: 'crlf', cardFormat: 'decimal', door: 'front' }],
});
// Decisions are logged at info as in production; the lines go to /dev/null instead of a journal.
const devNull = (await import('pino')).pino.destination({ dest: '/dev/null', sync: false });
const gateway = new Gateway({ config, logger: createLogger('info', devNull) });
await gateway.start();
importCards(gateway.store, `email,card,doors\nbench@example.com,${CARD},front\n`, Date.now());

// --- the bare path
const bareClient = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
const bareCards = new Map([[CARD, 'front']]);
const barePort = new SerialPort({ path: barePty.gatewaySide, baudRate: 9600 });
await new Promise<void>((ok, fail) => barePort.once('open', ok).once('error', fail));
barePort.pipe(new ReadlineParser({ delimiter: '\r\n' })).on('data', (line: string) => {
  const door = bareCards.get(line.trim());
  if (door) bareClient.publish(`bench/bare/${door}/cmd`, JSON.stringify({ id: line, pulseMs: 3000 }), { qos: 1 });
});

// --- the subscriber both paths publish to
const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
let arrived: (() => void) | null = null;
sub.on('message', () => arrived?.());
await sub.subscribeAsync(['lintel/bench/doors/front/cmd', 'bench/bare/front/cmd'], { qos: 1 });
await waitConnected();

const gwFd = openSync(gwPty.deviceSide, 'w');
const bareFd = openSync(barePty.deviceSide, 'w');

async function once(fd: number): Promise<number> {
  const got = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pulse within 2 s')), 2000);
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

for (let i = 0; i < WARMUP; i++) {
  await once(gwFd);
  await once(bareFd);
}
const gw = new Float64Array(READS);
const bare = new Float64Array(READS);
for (let i = 0; i < READS; i++) {
  // Alternate which path goes first so neither always follows the other.
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
console.log(`e2e bench: ${READS} reads per path, broker ${broker.kind} (${broker.url})`);
console.log(`  gateway  pty → lintel → broker → subscriber: p50 ${fmtUs(g.p50)}  p99 ${fmtUs(g.p99)}`);
console.log(`  bare     pty → serialport → Map → mqtt.js → subscriber: p50 ${fmtUs(b.p50)}  p99 ${fmtUs(b.p99)}`);
console.log(`  ratio    p50 ${(g.p50 / b.p50).toFixed(3)}× (target ≤ 1.1)  p99 ${(g.p99 / b.p99).toFixed(3)}× (target ≤ 1.25)`);
const audited = gateway.store.db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number };
console.log(`  audit rows written by the gateway: ${audited.n}`);

closeSync(gwFd);
closeSync(bareFd);
await new Promise<void>((ok) => barePort.close(() => ok()));
await bareClient.endAsync();
await sub.endAsync();
await gateway.stop();
await gwPty.stop();
await barePty.stop();
await broker.stop();
rmSync(dir, { recursive: true, force: true });
rmSync(barePtyDir, { recursive: true, force: true });

async function waitConnected(): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(gateway.relay.connected() && gateway.status().readers.every((r) => r.connected))) {
    if (Date.now() > end) throw new Error('gateway did not connect to the broker and the pty');
    await new Promise((r) => setTimeout(r, 20));
  }
}
