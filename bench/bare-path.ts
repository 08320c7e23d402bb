/**
 * The bare reference path for bench/e2e-pty.ts, as its own process like the gateway:
 * pty → serialport → ReadlineParser → Map lookup → mqtt.js publish (QoS 1) → broker. Nothing else.
 * Usage: node dist/bench/bare-path.js <pty path> <broker url> <card>
 */
import { ReadlineParser } from '@serialport/parser-readline';
import mqtt from 'mqtt';
import { SerialPort } from 'serialport';

const [path, url, card] = process.argv.slice(2) as [string, string, string];
const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
const cards = new Map([[card, 'front']]);
const port = new SerialPort({ path, baudRate: 9600 });
port.pipe(new ReadlineParser({ delimiter: '\r\n' })).on('data', (line: string) => {
  const door = cards.get(line);
  if (door) client.publish(`bench/bare/${door}/cmd`, JSON.stringify({ id: line, pulseMs: 3000 }), { qos: 1 });
});
port.once('open', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => port.close(() => void client.endAsync().then(() => process.exit(0))));
