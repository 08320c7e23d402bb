import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from './broker.js';
import { until } from './lintel-process.js';
import { tempDir } from './tmp.js';

/*
 * One in-process gateway for an end-to-end test: its own Mosquitto on a free port, a temp data
 * dir, HTTP on a loopback port of its own, and a firmware simulator per door the test names.
 * Every part is pushed onto the caller's cleanups (stopped in reverse), so a failing assertion
 * never leaves a broker or a gateway behind.
 */

export type Cleanups = Array<() => Promise<void> | void>;

export interface GatewayRig {
  broker: TestBroker;
  config: Config;
  gateway: Gateway;
  /** One simulated door board per id in `simulate`, in that order. */
  doors: DoorSimulator[];
  /** `http://host:port` of the gateway's HTTP server. */
  base: string;
}

/**
 * `fields` are the config's own sections beside what the rig sets (site, dataDir, mqtt url and
 * protocol, an ephemeral loopback HTTP port); `http` fields are merged over the rig's.
 */
export async function startGatewayRig(
  cleanups: Cleanups,
  siteId: string,
  fields: Record<string, unknown> & { http?: Record<string, unknown> },
  simulate: readonly string[] = [],
): Promise<GatewayRig> {
  const broker = await startTestBroker();
  cleanups.push(() => broker.stop());
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const protocolVersion = broker.protocolVersions.includes(5) ? 5 : 4;
  const { http, ...rest } = fields;
  const config = parseConfig({
    site: { id: siteId },
    dataDir: join(dir, 'data'),
    mqtt: { url: broker.url, protocolVersion },
    ...rest,
    http: { host: '127.0.0.1', port: 0, ...http },
  });
  const gateway = new Gateway({ config, logger: silentLogger });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  const doors: DoorSimulator[] = [];
  for (const doorId of simulate) {
    const sim = new DoorSimulator({ url: broker.url, prefix: config.mqtt.topicPrefix, siteId, doorId, protocolVersion });
    await sim.start();
    cleanups.push(() => sim.stop());
    doors.push(sim);
  }
  const { host, port } = gateway.address()!;
  return { broker, config, gateway, doors, base: `http://${host}:${port}` };
}

/** A line read at `reader` (in-process, as the reader would hand it over): the decision's reason once it is recorded. */
export async function swipeReason(gateway: Gateway, reader: Parameters<Gateway['pipeline']['onLine']>[0], line: string): Promise<string> {
  const before = gateway.recent.list().length;
  gateway.pipeline.onLine(reader, line);
  await until('decision', () => gateway.recent.list().length > before);
  return gateway.recent.list()[0]!.reason;
}
