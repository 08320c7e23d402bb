import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker } from '../helpers/broker.js';
import { startSocatPty, type SocatPty } from '../helpers/pty.js';
import { waitFor } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The built `lintel run` as a child process, as systemd would start it: a config file, a real
 * pseudo-terminal as the serial reader, a real Mosquitto. A known card line opens the door;
 * an unknown one publishes nothing.
 */

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');


describe('lintel run (child process, pty, real broker)', () => {
  let broker: Awaited<ReturnType<typeof startTestBroker>>;
  let pty: SocatPty;
  let child: ChildProcess;
  let dir: string;
  let cleanup: () => void;
  let port = 0;
  const commands: { topic: string; payload: Record<string, unknown>; retain: boolean }[] = [];
  let sub: mqtt.MqttClient;
  let stderr = '';

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    broker = await startTestBroker();
    pty = await startSocatPty(dir);
    const config = join(dir, 'lintel.yaml');
    writeFileSync(
      config,
      [
        'site: { id: e2e }',
        `dataDir: ${join(dir, 'data')}`,
        'log: { level: info }',
        'http: { host: 127.0.0.1, port: 0 }',
        `mqtt: { url: "${broker.url}", topicPrefix: lintel, protocolVersion: ${broker.protocolVersions.includes(5) ? 5 : 4} }`,
        'doors:',
        '  - { id: front, pulseMs: 1500 }',
        'readers:',
        `  - { id: front-in, kind: serial, path: "${pty.gatewaySide}", baudRate: 9600, terminator: crlf, cardFormat: decimal, door: front }`,
      ].join('\n'),
    );
    const cards = join(dir, 'cards.csv');
    writeFileSync(cards, 'email,name,card,format,doors\nana@example.com,Ana,0007340861,decimal,front\n');
    execFileSync(process.execPath, [CLI, 'cards', 'import', cards, '-c', config], { stdio: 'pipe' });

    sub = await mqtt.connectAsync(broker.url, { protocolVersion: broker.protocolVersions.includes(5) ? 5 : 4 });
    sub.on('message', (topic, payload, packet) => commands.push({ topic, payload: JSON.parse(payload.toString()), retain: packet.retain }));
    await sub.subscribeAsync('lintel/e2e/doors/+/cmd', { qos: 1 });

    child = spawn(process.execPath, [CLI, 'run', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = await waitFor('gateway start', () => stderr.split('\n').find((l) => l.includes('lintel started')));
    port = (JSON.parse(started) as { http: { port: number } }).http.port;
    await waitFor('reader connected', async () => {
      const s = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { readers: { connected: boolean }[]; mqtt: { connected: boolean } };
      return s.readers[0]?.connected && s.mqtt.connected ? true : undefined;
    });
  }, 30_000);

  afterAll(async () => {
    child?.kill('SIGTERM');
    await new Promise((r) => (child && child.exitCode === null ? child.once('exit', r) : r(null)));
    await sub?.endAsync();
    await pty?.stop();
    await broker?.stop();
    cleanup?.();
  });

  function typeCard(line: string): void {
    const fd = openSync(pty.deviceSide, 'w');
    writeSync(fd, line);
    closeSync(fd);
  }

  async function decisions(): Promise<{ credential: string; result: string; reason: string }[]> {
    const s = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { recent: { credential: string; result: string; reason: string }[] };
    return s.recent;
  }

  it('a known card pulses the door relay over MQTT', async () => {
    typeCard('7340861\r\n');
    const cmd = await waitFor('pulse command', () => commands.find((c) => c.topic === 'lintel/e2e/doors/front/cmd'));
    expect(cmd.payload).toMatchObject({ v: 1, type: 'pulse', pulseMs: 1500, channel: 1 });
    expect(cmd.retain).toBe(false);
    expect((cmd.payload.expiresAt as number) > (cmd.payload.issuedAt as number)).toBe(true);
    const d = await waitFor('granted decision', async () => (await decisions()).find((e) => e.result === 'granted'));
    expect(d).toMatchObject({ reason: 'granted', credential: '*****61' });
    expect(stderr).not.toContain('7340861');
  });

  it('an unknown card is denied and publishes nothing', async () => {
    const before = commands.length;
    typeCard('999999\r\n');
    await waitFor('denied decision', async () => (await decisions()).find((e) => e.reason === 'unknown_credential'));
    expect(commands.length).toBe(before);
    expect(stderr).not.toContain('999999');
  });
});
