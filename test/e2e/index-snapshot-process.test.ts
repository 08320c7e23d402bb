import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { CLI, GatewayProcess } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The built `lintel run` stopped by SIGTERM writes its index snapshot; the next start restores
 * it and catches up with a `cards import` run while it was down. A card read on the stdin
 * reader is decided from that index.
 */

describe('lintel run: the index snapshot across a restart', () => {
  let dir: string;
  let cleanup: () => void;
  let broker: TestBroker;
  let config: string;
  const running: GatewayProcess[] = [];

  const importCsv = (name: string, csv: string) => {
    const file = join(dir, name);
    writeFileSync(file, csv);
    execFileSync(process.execPath, [CLI, 'cards', 'import', file, '-c', config], { stdio: 'pipe' });
  };
  const start = async () => {
    const gw = new GatewayProcess(config);
    running.push(gw);
    await gw.started();
    return gw;
  };
  const decision = async (gw: GatewayProcess, card: string) => {
    const from = gw.lines.length;
    gw.typeLine(card);
    return (await gw.waitLog('decision', { from })).reason;
  };

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('lintel-snap-e2e-'));
    broker = await startTestBroker();
    config = join(dir, 'lintel.yaml');
    writeFileSync(
      config,
      [
        'site: { id: snap }',
        `dataDir: ${join(dir, 'data')}`,
        'log: { level: info }',
        'http: { host: 127.0.0.1, port: 0 }',
        `mqtt: { url: "${broker.url}", protocolVersion: ${broker.protocolVersions.includes(5) ? 5 : 4} }`,
        'doors:',
        '  - { id: front }',
        'readers:',
        '  - { id: desk, kind: stdin, door: front }',
        '',
      ].join('\n'),
    );
    importCsv('a.csv', 'email,card,doors\nana@example.com,1001,front\nbo@example.com,2002,front\n');
  });
  afterAll(async () => {
    for (const gw of running) await gw.stop();
    await broker.stop();
    cleanup();
  });

  it('first start loads from the tables; a clean stop writes the snapshot; the next start restores it with what changed meanwhile', async () => {
    const first = await start();
    expect((await first.waitLog('index loaded from the database')).snapshot).toBe('no snapshot file');
    expect(await decision(first, '1001')).toBe('granted');
    await first.stop();
    expect(first.lines.some((l) => l.msg === 'index snapshot written')).toBe(true);
    expect(existsSync(join(dir, 'data', 'lintel.index'))).toBe(true);

    // While it is down: Bo's card is lost, Cy is new.
    importCsv('b.csv', 'email,card,state,doors\nbo@example.com,2002,lost,front\ncy@example.com,3003,active,front\n');
    const second = await start();
    const restored = await second.waitLog('index restored from the snapshot');
    expect(restored.caughtUp).toBe(2);
    expect(await decision(second, '1001')).toBe('granted');
    expect(await decision(second, '2002')).toBe('credential_lost');
    expect(await decision(second, '3003')).toBe('granted');
  });
});
