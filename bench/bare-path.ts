/**
 * The bare reference path for bench/e2e-pty.ts, as its own process like the gateway:
 * pty → serialport → ReadlineParser → Map lookup → mqtt.js publish → broker. Nothing else.
 *
 * What it publishes is the gateway's message, built once at start: a pulse command of the same
 * size (the gateway's ids are 20–24 characters) with the same options the protocol requires
 * (QoS 1, not retained, MQTT 5 message expiry). Those bytes and that property cost the broker
 * and the subscriber the same whoever sends them, so the ratio measures the gateway's own
 * work — decoding, deciding, building the command — and not the wire format it must use.
 * Usage: node dist/bench/bare-path.js <pty path> <broker url> <card> <protocol version 4|5>
 */
import { ReadlineParser } from '@serialport/parser-readline';
import type { Socket } from 'node:net';
import mqtt, { type IClientPublishOptions } from 'mqtt';
import { SerialPort } from 'serialport';
import { PulseCommand } from '../src/doors/protocol.js';

const [path, url, card, version] = process.argv.slice(2) as [string, string, string, string];
const protocolVersion = version === '4' ? 4 : 5;
const client = await mqtt.connectAsync(url, { protocolVersion });
// Like the gateway's socket (and the broker's, with set_tcp_nodelay): no Nagle on either path.
(client.stream as Socket).setNoDelay(true);
const now = Date.now();
// The gateway's defaults: 3 s pulse, 2 s command lifetime (doors[].commandTtlMs).
const command = new PulseCommand('Bare0path0id-7f', 1, 3000, now, now + 2000);
const options: IClientPublishOptions =
  protocolVersion === 5 ? { qos: 1, retain: false, properties: { messageExpiryInterval: command.messageExpiryIntervalSec() } } : { qos: 1, retain: false };
const route = { topic: 'bench/bare/front/cmd', payload: command.serialize(), options };
const routes = new Map([[card, route]]);
const port = new SerialPort({ path, baudRate: 9600 });
port.pipe(new ReadlineParser({ delimiter: '\r\n' })).on('data', (line: string) => {
  const r = routes.get(line);
  if (r) {
    client.publish(r.topic, r.payload, r.options);
    // As DoorRelay's sendNow: mqtt-packet corks the socket and uncorks on nextTick; the gateway
    // sends the packet at once, so the reference path must too (without it the ratio read ~0.06× low).
    const stream = client.stream as { writableCorked?: number; uncork?: () => void } | undefined;
    while (stream?.uncork && (stream.writableCorked ?? 0) > 0) stream.uncork();
  }
});
port.once('open', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => port.close(() => void client.endAsync().then(() => process.exit(0))));
