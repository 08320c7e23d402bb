import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/tmp.js';
import { Observer } from '../doors/fixtures.js';
import { violations } from './schemas.js';
import { until } from '../helpers/lintel-process.js';

/* The broker goes away under the events part: events are dropped and counted, never queued; back, it announces again. */

const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;

describe('MQTT events while the broker is down', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('drops and counts what it cannot send, keeps deciding, and re-announces the retained configs when the broker is back', async () => {
    const broker = await startTestBroker();
    const v: 4 | 5 = broker.protocolVersions.includes(5) ? 5 : 4;
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const raw = {
      site: { id: 'outage' },
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { url: broker.url, protocolVersion: v },
      homeAssistant: { discovery: true },
      doors: [{ id: 'front' }],
      readers: [reader],
    };
    const gateway = new Gateway({ config: parseConfig(raw), logger: silentLogger, stdin: new PassThrough() });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    await until('events link up', () => gateway.events.stats()?.connected === true);
    await broker.stop();
    await until('events link down', () => gateway.events.stats()?.connected === false);

    gateway.pipeline.onLine(reader, '999999');
    await until('decision recorded', () => gateway.recent.list().length === 1);
    expect(gateway.recent.list()[0]).toMatchObject({ result: 'denied' });
    expect(gateway.events.stats()!.link.disconnected).toBeGreaterThanOrEqual(1);
    expect(await gateway.metrics.text()).toMatch(/lintel_events_dropped_total\{reason="disconnected"\} [1-9]/);

    // A fresh broker knows no retained message: the configs come back with the connection.
    const back = await startTestBroker({ port: broker.port });
    cleanups.push(() => back.stop());
    await until('events link back', () => gateway.events.stats()?.connected === true);
    const late = await Observer.connect(back.url, v);
    cleanups.push(() => late.close());
    await late.subscribe('homeassistant/lock/lintel_outage/+/config');
    const lock = await late.first('re-announced lock', (p) => p.payload.length > 0, 10_000);
    expect(lock.retain).toBe(true);
    expect(violations('ha-lock-config', JSON.parse(lock.payload.toString()))).toEqual([]);
  }, 45_000);
});
