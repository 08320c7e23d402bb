/**
 * The bare reference path for bench/e2e-pty.ts and bench/scale.ts, as its own process like the
 * gateway: pty → serialport → ReadlineParser → Map lookup → mqtt.js publish → broker. Nothing else.
 *
 * Its Map holds every card of the same CSV the gateway imported (card → the doors it opens), so
 * at 1M cards both look a read up in a population of the same size; a line publishes only when
 * the card opens the door of the pty it came in on, as a grant check would.
 *
 * What it publishes is the gateway's message, built once per door at start: a pulse command of the
 * same size (the gateway's ids are 20–24 characters) with the same options the protocol requires
 * (QoS 1, not retained, MQTT 5 message expiry), on the same topic scheme under its own site id.
 * Those bytes and that property cost the broker and the subscriber the same whoever sends them,
 * so the ratio measures the gateway's own work — decoding, deciding, building the command — and
 * not the wire format it must use.
 * Usage: node dist/bench/bare-path.js <cards csv> <broker url> <protocol 4|5> <site> <door>=<pty path>...
 * The CSV is the benches' own (a header naming `card` and `doors`, no quoted fields). Prints
 * `ready` once every pty is open.
 */
import { ReadlineParser } from '@serialport/parser-readline';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import mqtt, { type IClientPublishOptions } from 'mqtt';
import { SerialPort } from 'serialport';
import { PulseCommand, topics } from '../src/doors/protocol.js';

const [csv, url, version, site, ...ends] = process.argv.slice(2) as [string, string, string, string, ...string[]];
const protocolVersion = version === '4' ? 4 : 5;
const client = await mqtt.connectAsync(url, { protocolVersion });
// Like the gateway's socket (and the broker's, with set_tcp_nodelay): no Nagle on either path.
(client.stream as Socket).setNoDelay(true);

interface Route {
  door: string;
  topic: string;
  payload: string;
  options: IClientPublishOptions;
}
const now = Date.now();
const t = topics('lintel', site);
const doorRoutes = new Map<string, Route>();
for (const end of ends) {
  const door = end.slice(0, end.indexOf('='));
  // The gateway's defaults: 3 s pulse, 2 s command lifetime (doors[].commandTtlMs).
  const command = new PulseCommand('Bare0path0id-7f', 1, 3000, now, now + 2000);
  const options: IClientPublishOptions =
    protocolVersion === 5 ? { qos: 1, retain: false, properties: { messageExpiryInterval: command.messageExpiryIntervalSec() } } : { qos: 1, retain: false };
  doorRoutes.set(door, { door, topic: t.cmd(door), payload: command.serialize(), options });
}

/** card → the routes of the doors it opens (only doors this process has a pty for). */
function loadCards(file: string): Map<string, Route[]> {
  const text = readFileSync(file, 'utf8');
  const header = text.slice(0, text.indexOf('\n')).trim().split(',');
  const cardAt = header.indexOf('card');
  const doorsAt = header.indexOf('doors');
  if (cardAt < 0 || doorsAt < 0) throw new Error(`${file}: the header names no card or doors column`);
  const cards = new Map<string, Route[]>();
  // Line by line with indexOf: a 1M-row file as one array of lines would be ~150 MB of garbage.
  for (let at = text.indexOf('\n') + 1; at < text.length; ) {
    const next = text.indexOf('\n', at);
    const line = text.slice(at, next < 0 ? text.length : next).trim();
    at = next < 0 ? text.length : next + 1;
    if (line === '') continue;
    const fields = line.split(',');
    const routes = fields[doorsAt]!.split(/[;\s|]+/).flatMap((d) => doorRoutes.get(d) ?? []);
    if (routes.length > 0) cards.set(fields[cardAt]!, routes);
  }
  return cards;
}
const cards = loadCards(csv);

const ports = ends.map((end) => {
  const door = end.slice(0, end.indexOf('='));
  const port = new SerialPort({ path: end.slice(end.indexOf('=') + 1), baudRate: 9600 });
  port.pipe(new ReadlineParser({ delimiter: '\r\n' })).on('data', (line: string) => {
    const routes = cards.get(line);
    if (routes === undefined) return;
    for (const r of routes) {
      if (r.door !== door) continue;
      client.publish(r.topic, r.payload, r.options);
      // As DoorRelay's sendNow: mqtt-packet corks the socket and uncorks on nextTick; the gateway
      // sends the packet at once, so the reference path must too (without it the ratio read ~0.06× low).
      const stream = client.stream as { writableCorked?: number; uncork?: () => void } | undefined;
      while (stream?.uncork && (stream.writableCorked ?? 0) > 0) stream.uncork();
    }
  });
  return new Promise<SerialPort>((resolve, reject) => {
    port.once('open', () => resolve(port));
    port.once('error', reject);
    port.on('error', (err) => console.error(`bare path: ${door}: ${err.message}`));
  });
});
const opened = await Promise.all(ports);
process.stdout.write(`ready ${cards.size} cards\n`);
process.on('SIGTERM', () => {
  let open = opened.length;
  for (const port of opened) port.close(() => --open === 0 && void client.endAsync().then(() => process.exit(0)));
});
