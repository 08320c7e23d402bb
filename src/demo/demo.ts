import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { parseConfig } from '../config/load.js';
import { sitePaths } from '../config/site-paths.js';
import { DoorSimulator } from '../doors/door-simulator.js';
import { Gateway } from '../gateway.js';
import { UpstreamSimulator } from '../simulator/upstream-simulator.js';
import { importCards } from '../store/card-import.js';
import { systemClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { DemoCommands } from './commands.js';
import { ConsoleRouter } from './console-router.js';
import { startDemoBroker } from './demo-broker.js';
import { samplePeopleLines } from './sample-people.js';

/*
 * `lintel demo` / `npm start`: the whole gateway, no hardware and no broker to install. Real
 * parts everywhere except the hardware: Mosquitto where installed, else the embedded MQTT broker
 * (demo-broker.ts), the reference door firmware simulator, the project's booking platform
 * simulator over loopback HTTP with signed callbacks, a SQLite file under ./data, and this
 * terminal as every door's card reader and QR scanner (console-router.ts).
 */

const SAMPLE_CARDS = new URL('../../../examples/cards.csv', import.meta.url);
const TOKEN = 'demo-platform-token';

async function portOr(preferred: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number>((ok, fail) => {
      const srv = createServer();
      srv.once('error', fail);
      srv.listen(port, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => ok(p));
      });
    });
  return tryListen(preferred).catch(() => tryListen(0));
}

export async function runDemo(opts: { dataDir?: string; port?: number } = {}): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const platform = new UpstreamSimulator({ clock: systemClock, tokens: [TOKEN] });
  const baseUrl = await platform.start();
  platform.addResource({ resourceId: 'R-101', name: 'Room Orion', type: 'room', locationId: 'HQ', timeZone });
  seedVisits(platform);
  const broker = await startDemoBroker();

  const port = opts.port ?? (await portOr(8080));
  const doorList = [
    { id: 'front', name: 'Front entrance', pulseMs: 3000, visitors: true },
    { id: 'orion', name: 'Room Orion', pulseMs: 3000 },
  ];
  const config = parseConfig({
    site: { id: 'demo', name: 'lintel demo' },
    dataDir: resolve(opts.dataDir ?? './data'),
    log: { level: 'warn' },
    http: { host: '127.0.0.1', port },
    mqtt: { url: broker.configUrl, embeddedPort: 0, protocolVersion: broker.protocolVersion },
    doors: doorList,
    // Each door has a card reader and a QR scanner; all of them are this terminal (ConsoleRouter).
    readers: doorList.flatMap((d) => [
      { id: `${d.id}-card`, kind: 'stdin', door: d.id, payload: 'card', cardFormat: 'decimal' },
      { id: `${d.id}-qr`, kind: 'stdin', door: d.id, payload: 'qr' },
    ]),
    resources: [{ id: 'R-101', doors: ['front', 'orion'] }],
    upstream: {
      baseUrl,
      token: TOKEN,
      callbackUrl: `http://127.0.0.1:${port}/webhooks/offision`,
      reconcileIntervalSec: 60,
    },
    visitors: { receptionDoors: ['front'], expectedPolicy: 'deny', offlinePolicy: 'deny', deviceId: 'demo-reception' },
  });

  const inputs = new Map(config.readers.map((r) => [r.id, new PassThrough()]));
  const commands = new DemoCommands({ platform, out, timeZone });
  const gateway = new Gateway({ config, logger: createLogger('warn'), stdin: (reader) => inputs.get(reader.id)! });
  await gateway.start();
  commands.attach(gateway);

  const sampleCsv = readFileSync(SAMPLE_CARDS, 'utf8');
  if (gateway.index.stats().people === 0) {
    const summary = importCards(gateway.store, sampleCsv, Date.now());
    out(`Imported the sample card list (examples/cards.csv): ${summary.cards} cards.`);
  }

  const brokerUrl = gateway.brokerUrl() ?? broker.configUrl;
  const doors: DoorSimulator[] = [];
  for (const d of config.doors) {
    const door = new DoorSimulator({ url: brokerUrl, prefix: config.mqtt.topicPrefix, siteId: config.site.id, doorId: d.id, protocolVersion: broker.protocolVersion });
    door.on('pulse', (p) => out(`  [door ${d.id}] relay ${p.channel} unlocked for ${p.pulseMs} ms`));
    await door.start();
    doors.push(door);
  }
  showRelocks(gateway, out);
  gateway.pipeline.onDecision((e) =>
    out(`${e.result === 'granted' ? 'GRANTED' : 'DENIED '} ${e.kind} ${e.credential} at ${e.doorId}: ${e.reason}${e.relay === 'none' ? '' : `, relay ${e.relay}`}`),
  );

  out(`lintel demo — status page http://127.0.0.1:${gateway.address()!.port}/  ·  data in ${sitePaths(config).dataDir}`);
  out(broker.kind === 'mosquitto'
    ? `MQTT broker: Mosquitto at ${brokerUrl}, MQTT 5: unlocks carry the broker's message expiry as well as expiresAt (mosquitto_sub -L ${brokerUrl}/lintel/# -v shows the traffic).`
    : `MQTT broker: embedded (aedes) at ${brokerUrl}. It speaks MQTT 3.1.1 only, so there is no broker-side message expiry: each unlock's expiresAt, which the door firmware checks, carries the late-unlock guarantee. Install Mosquitto for MQTT 5.`);
  out('Sample people (examples/cards.csv): card to type, name, access');
  for (const line of samplePeopleLines(sampleCsv)) out(line);
  commands.printHelp();

  const router = new ConsoleRouter(config.doors);
  out(`Reading at door ${router.door}.`);
  const terminal = createInterface({ input: process.stdin, terminal: false });
  terminal.on('line', (line) => {
    const r = router.route(line);
    if (r.to === 'command') return commands.handle(r.line);
    if (r.to === 'none') return void (r.message !== null && out(`  ${r.message}`));
    inputs.get(`${r.doorId}-${r.to}`)?.write(`${r.text}\n`);
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const input of inputs.values()) input.end();
    for (const door of doors) await door.stop();
    await gateway.stop();
    await broker.stop();
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  terminal.on('close', () => void stop());
}

/** The relock as the gateway sees it: each door's reported relay going back to locked. */
function showRelocks(gateway: Gateway, out: (line: string) => void): void {
  const last = new Map<string, string>();
  gateway.relay.onState(({ doorId, state }) => {
    if (last.get(doorId) === 'unlocked' && state.relay === 'locked') out(`  [door ${doorId}] relay locked again (the door relocked itself after its pulse)`);
    last.set(doorId, state.relay);
  });
}

function seedVisits(platform: UpstreamSimulator): void {
  const day = new Date();
  const from = new Date(day.getTime() - 2 * 3600_000).toISOString();
  const to = new Date(day.getTime() + 8 * 3600_000).toISOString();
  const visitor = { name: 'Sam Roe', email: 'sam@partner.example', company: 'Partner BV' };
  const host = { name: 'Ana Silva', email: 'ana@example.com' };
  platform.addVisit('V7K2-99QX', { visitId: 'VIS-311', visitor, host, status: 'checked_in', validFrom: from, validTo: to });
  platform.addVisit('EXPT-0001', { visitId: 'VIS-312', visitor, host, status: 'expected', validFrom: from, validTo: to });
  platform.addVisit('GONE-0002', { visitId: 'VIS-313', visitor, host, status: 'checked_out', validFrom: from, validTo: to });
}
