import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { importCards } from '../../src/store/card-import.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/lintel-process.js';

/* The composition root with a real broker and SQLite: what the parts do together. */

const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;

describe('gateway', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(broker: TestBroker, extra: Record<string, unknown> = {}) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const raw = {
      site: { id: 'gw' },
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { url: broker.url, protocolVersion: broker.protocolVersions.includes(5) ? 5 : 4 },
      doors: [{ id: 'front' }, { id: 'lab' }],
      ...extra,
    };
    const gateway = new Gateway({ config: parseConfig(raw), logger: silentLogger });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    return { gateway, raw };
  }

  it('with the broker down a granted card is logged as granted, relay unreachable, and never unlocks late', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const { gateway } = await start(broker);
    importCards(gateway.store, 'email,card,doors\nana@example.com,7340861,front\n', Date.now());
    await until('mqtt up', () => gateway.relay.connected());
    const port = broker.port;
    await broker.stop();
    await until('mqtt down', () => !gateway.relay.connected());

    gateway.pipeline.onLine(reader, '7340861');
    await until('decision recorded', () => gateway.recent.list().length === 1);
    expect(gateway.recent.list()[0]).toMatchObject({ result: 'granted', reason: 'granted', relay: 'unreachable' });
    const row = gateway.audit.recent(1)[0]!;
    expect(row).toMatchObject({ result: 'granted', relay: 'unreachable', credential: '*****61' });
    expect(gateway.status().health).toBe('degraded');

    // The broker comes back: the gateway reconnects and nothing is sent for the old read.
    const back = await startTestBroker({ port });
    cleanups.push(() => back.stop());
    const seen: string[] = [];
    const sub = await mqtt.connectAsync(back.url, { protocolVersion: back.protocolVersions.includes(5) ? 5 : 4 });
    cleanups.push(() => sub.endAsync());
    sub.on('message', (topic) => seen.push(topic));
    await sub.subscribeAsync('lintel/gw/doors/+/cmd', { qos: 1 });
    await until('mqtt back', () => gateway.relay.connected(), 15_000);
    gateway.pipeline.onLine(reader, '7340861'); // a fresh read does unlock
    await until('fresh pulse', () => seen.length === 1);
    expect(seen).toEqual(['lintel/gw/doors/front/cmd']);
  }, 30_000);

  it('refuses to bind beyond loopback without an operator token (fail closed)', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const gateway = new Gateway({
      config: parseConfig({ site: { id: 'x' }, dataDir: join(dir, 'd'), http: { host: '0.0.0.0', port: 0 }, doors: [{ id: 'front' }] }),
      logger: silentLogger,
    });
    await expect(gateway.start()).rejects.toThrow(/not loopback: set http.authToken/);
  });

  it('a reload that moves a resource to other doors moves its ongoing booking grants at once, written on a connection of its own', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const { gateway, raw } = await start(broker, { resources: [{ id: 'R-1', doors: ['front'] }] });
    const now = Date.now();
    importCards(gateway.store, 'email,card\nli@example.com,2002\n', now);
    gateway.store.db
      .prepare("INSERT INTO appointments VALUES ('A-1', 'R-1', 'confirmed', ?, ?, '[\"li@example.com\"]', NULL, ?)")
      .run(now - 600_000, now + 3_600_000, now);
    // The main connection's commits are the badge thread's own work: the reload's must not be one of them.
    let ownCommits = 0;
    gateway.store.onCommit(() => ownCommits++);
    await gateway.reload(parseConfig({ ...raw, resources: [{ id: 'R-1', doors: ['lab'] }] }));
    expect(ownCommits).toBe(0);
    // Decided right after the reload resolved: the index has applied the other connection's commit.
    gateway.pipeline.onLine({ ...reader, door: 'lab' }, '2002');
    gateway.pipeline.onLine(reader, '2002');
    await until('two decisions', () => gateway.recent.list().length === 2);
    const [front, lab] = gateway.recent.list();
    expect(lab).toMatchObject({ doorId: 'lab', result: 'granted' });
    expect(front).toMatchObject({ doorId: 'front', result: 'denied', reason: 'no_grant' });
  });
});
