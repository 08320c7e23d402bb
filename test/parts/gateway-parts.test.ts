import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseInUse } from '../../src/backup/in-use.js';
import { HARD_STOP_MS } from '../../src/cli/run-gateway.js';
import { parseConfig } from '../../src/config/load.js';
import { sitePaths } from '../../src/config/site-paths.js';
import { Gateway } from '../../src/gateway.js';
import { gatewayParts } from '../../src/parts/gateway-parts.js';
import { silentLogger } from '../../src/util/log.js';
import { freePort } from '../helpers/broker.js';
import { tempDir } from '../helpers/tmp.js';

/* The gateway's list of parts: what its order promises, and a start that fails half-way. */

const notCalled = () => {
  throw new Error('status is not asked for here');
};

describe('gateway parts', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('all stop bounds together stay under the hard stop of `lintel run` (itself under systemd\'s 15 s)', () => {
    const { list } = gatewayParts({ status: notCalled });
    const total = list.reduce((sum, p) => sum + p.stopBoundMs, 0);
    expect(total).toBeLessThan(HARD_STOP_MS);
  });

  it('orders the parts so each can rely on the ones before it', () => {
    const { list, core } = gatewayParts({ status: notCalled });
    const at = (name: string) => list.findIndex((p) => p.name === name);
    expect(list[0]).toBe(core.files); // the preflight refuses a bad config before anything opens
    expect(at('store')).toBeLessThan(at('decisions'));
    expect(at('broker')).toBeLessThan(at('relay'));
    expect(at('relay')).toBeLessThan(at('decisions'));
    expect(at('decisions')).toBeLessThan(at('readers')); // no badge before the gateway can decide on it
    expect(list.at(-1)?.name).toBe('background'); // first to stop: no timer runs into a stopping part
    // The HTTP part mounts the routes of the parts before it: none with routes may come after.
    const withRoutes = list.filter((p) => typeof p.routes === 'function').map((p) => p.name);
    expect(withRoutes.length).toBeGreaterThan(0);
    for (const name of withRoutes) expect(at(name)).toBeLessThan(at('http'));
  });

  it('a start that fails at the HTTP port stops what started and leaves the database closed', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const port = await freePort();
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const config = parseConfig({
      site: { id: 'half' },
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port },
      mqtt: { url: 'embedded', embeddedPort: 0 },
      doors: [{ id: 'front' }],
    });
    const gateway = new Gateway({ config, logger: silentLogger });
    await expect(gateway.start()).rejects.toThrow(/EADDRINUSE/);
    expect(databaseInUse(sitePaths(config).database)).toBe(false);
    expect(gateway.status().health).toBe('failing'); // nothing runs: the database check fails
    expect(gateway.brokerUrl()).toBeNull(); // the embedded broker started before it was stopped too
    await gateway.stop(); // what a caller does after a failed start: nothing left to stop, no throw
  });
});
