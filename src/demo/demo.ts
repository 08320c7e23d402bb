import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { parseConfig } from '../config/load.js';
import { DoorSimulator } from '../doors/door-simulator.js';
import { Gateway } from '../gateway.js';
import { UpstreamSimulator } from '../simulator/upstream-simulator.js';
import { importCards } from '../store/card-import.js';
import { systemClock } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import { DemoCommands } from './commands.js';

/*
 * `lintel demo` / `npm start`: the whole gateway on its embedded default, no hardware and no
 * broker to install. Real parts everywhere except the hardware: the embedded MQTT broker, the
 * reference door firmware simulator, the project's booking platform simulator over loopback
 * HTTP with signed callbacks, a SQLite file under ./data, and this terminal as a badge reader.
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

  const port = opts.port ?? (await portOr(8080));
  const config = parseConfig({
    site: { id: 'demo', name: 'lintel demo' },
    dataDir: resolve(opts.dataDir ?? './data'),
    log: { level: 'warn' },
    http: { host: '127.0.0.1', port },
    mqtt: { url: 'embedded', embeddedPort: 0 },
    doors: [
      { id: 'front', name: 'Front entrance', pulseMs: 3000, visitors: true },
      { id: 'orion', name: 'Room Orion', pulseMs: 3000 },
    ],
    readers: [{ id: 'console', kind: 'stdin', door: 'front', payload: 'auto', cardFormat: 'decimal' }],
    resources: [{ id: 'R-101', doors: ['front', 'orion'] }],
    upstream: {
      baseUrl,
      token: TOKEN,
      callbackUrl: `http://127.0.0.1:${port}/webhooks/offision`,
      reconcileIntervalSec: 60,
    },
    visitors: { receptionDoors: ['front'], expectedPolicy: 'deny', offlinePolicy: 'deny', deviceId: 'demo-reception' },
  });

  const commands = new DemoCommands({ platform, out, timeZone });
  const gateway = new Gateway({
    config,
    logger: createLogger('warn'),
    stdinFilter: (line) => commands.handle(line),
  });
  await gateway.start();
  commands.attach(gateway);

  if (gateway.index.stats().people === 0) {
    const summary = importCards(gateway.store, readFileSync(SAMPLE_CARDS, 'utf8'), Date.now());
    out(`Imported the sample card list (examples/cards.csv): ${summary.cards} cards.`);
  }

  const doors: DoorSimulator[] = [];
  for (const d of config.doors) {
    const door = new DoorSimulator({ url: gateway.brokerUrl()!, prefix: config.mqtt.topicPrefix, siteId: config.site.id, doorId: d.id, protocolVersion: 4 });
    door.on('pulse', (p) => out(`  [door ${d.id}] relay ${p.channel} unlocked for ${p.pulseMs} ms`));
    await door.start();
    doors.push(door);
  }
  gateway.pipeline.onDecision((e) =>
    out(`${e.result === 'granted' ? 'GRANTED' : 'DENIED '} ${e.kind} ${e.credential} at ${e.doorId}: ${e.reason}${e.relay === 'none' ? '' : `, relay ${e.relay}`}`),
  );

  out(`lintel demo — status page http://127.0.0.1:${gateway.address()!.port}/  ·  data in ${config.dataDir}`);
  commands.printHelp();

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const door of doors) await door.stop();
    await gateway.stop();
    await platform.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.stdin.on('end', () => void stop());
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
