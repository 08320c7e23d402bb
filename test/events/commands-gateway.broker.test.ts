import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { IPublishPacket } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/tmp.js';
import { Observer } from '../doors/fixtures.js';
import { violations } from './schemas.js';
import { until } from '../helpers/lintel-process.js';

/*
 * MQTT commands end to end, through the console's real OperatorActions: a request on the
 * broker opens a simulated door, is audited as `mqtt:<actor>` like a click on the page, and the
 * role configured for the channel is checked as the console's would be.
 */

const json = (p: IPublishPacket) => JSON.parse(p.payload.toString()) as Record<string, unknown>;

describe('MQTT commands through the real OperatorActions', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function site(commands: Record<string, unknown>) {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const v: 4 | 5 = broker.protocolVersions.includes(5) ? 5 : 4;
    const config = parseConfig({
      site: { id: 'cmd' },
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { url: broker.url, protocolVersion: v, commands: { enabled: true, ...commands } },
      homeAssistant: { discovery: true },
      doors: [{ id: 'front' }],
    });
    const gateway = new Gateway({ config, logger: silentLogger, stdin: new PassThrough() });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const door = new DoorSimulator({ url: broker.url, prefix: 'lintel', siteId: 'cmd', doorId: 'front', protocolVersion: v });
    await door.start();
    cleanups.push(() => door.stop());
    const pulses: unknown[] = [];
    door.on('pulse', (p) => pulses.push(p));
    const observer = await Observer.connect(broker.url, v);
    cleanups.push(() => observer.close());
    await observer.subscribe('lintel/cmd/bridge/response/+');
    await until('relay and events up', () => gateway.relay.connected() && gateway.events.stats()?.connected === true);
    const request = async (action: string, body: Record<string, unknown>, transaction: string) => {
      await observer.client.publishAsync(`lintel/cmd/bridge/request/${action}`, JSON.stringify({ ...body, transaction }), { qos: 1 });
      const p = await observer.first(`answer ${transaction}`, (x) => x.topic === `lintel/cmd/bridge/response/${action}` && json(x).transaction === transaction);
      expect(violations('bridge-response', json(p))).toEqual([]);
      return json(p);
    };
    const audit = () => gateway.store.db.prepare('SELECT actor, action, target FROM change_audit ORDER BY id').all() as Array<{ actor: string; action: string; target: string }>;
    return { gateway, observer, pulses, request, audit };
  }

  it('pulses a door, locks the site down and refuses a pulse in lockdown, each audited as mqtt:<actor>', async () => {
    const { pulses, request, audit, observer } = await site({ actor: 'nodered' });
    expect(await request('door.pulse', { door: 'front' }, 'p1')).toMatchObject({ status: 'ok', transaction: 'p1' });
    await until('door pulsed', () => pulses.length === 1);
    expect(audit().at(-1)).toEqual({ actor: 'mqtt:nodered', action: 'door.pulse', target: 'front' });

    expect(await request('lockdown.set', { on: true }, 'l1')).toMatchObject({ status: 'ok', data: { on: true } });
    expect(await request('door.pulse', { door: 'front' }, 'p2')).toMatchObject({ status: 'error', error: { code: 'conflict' } });
    expect(await request('door.pulse', { door: 'nowhere' }, 'p3')).toMatchObject({ status: 'error', error: { code: 'conflict' } });
    expect(await request('lockdown.set', { on: false }, 'l2')).toMatchObject({ status: 'ok' });
    expect(await request('door.pulse', { door: 'nowhere' }, 'p4')).toMatchObject({ status: 'error', error: { code: 'not_found' } });

    // Home Assistant's lock: OPEN is the same pulse, by the same actor.
    await observer.client.publishAsync('lintel/cmd/ha/door/front/set', 'OPEN', { qos: 1 });
    await until('HA pulse', () => pulses.length === 2);
    await until('HA pulse audited', () => audit().filter((r) => r.action === 'door.pulse').length === 2);
    expect(audit().map((r) => r.actor)).toEqual(Array(audit().length).fill('mqtt:nodered'));
  }, 40_000);

  it('checks the channel\'s role as the console would: a viewer may open nothing', async () => {
    const { pulses, request, audit } = await site({ role: 'viewer' });
    expect(await request('door.pulse', { door: 'front' }, 'v1')).toMatchObject({ status: 'error', error: { code: 'forbidden_role' } });
    expect(await request('lockdown.set', { on: true }, 'v2')).toMatchObject({ status: 'error', error: { code: 'forbidden_role' } });
    expect(pulses).toEqual([]);
    expect(audit()).toEqual([]);
  }, 40_000);
});
