import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { AlarmChange } from '../../src/doors/alarm-types.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { Gateway } from '../../src/gateway.js';
import type { GatewayStatus } from '../../src/http/status.js';
import { importCards } from '../../src/store/card-import.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Door alarms through the whole gateway: a real Mosquitto, the reference firmware's simulator
 * with its contact sensor, SQLite, and /api/status over loopback HTTP. On the real clock: each
 * wait is bounded and waits for what the status says, never for a fixed time.
 */

const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type DoorAlarmJson = Extract<GatewayStatus['alarms'][number], { door: string }>;

describe('door alarms in a running gateway', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(alarms: Record<string, unknown> = { heldOpenSeconds: 1 }) {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const raw = {
      site: { id: 'gw' },
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { url: broker.url, protocolVersion: broker.protocolVersions.includes(5) ? 5 : 4 },
      // A short pulse and limit so the held-open alarm comes within the test's bounded waits.
      doors: [{ id: 'front', pulseMs: 300, commandTtlMs: 500, alarms }],
    };
    const gateway = new Gateway({ config: parseConfig(raw), logger: silentLogger });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const sim = new DoorSimulator({ url: broker.url, prefix: 'lintel', siteId: 'gw', doorId: 'front', protocolVersion: broker.protocolVersions.includes(5) ? 5 : 4 });
    await sim.start();
    cleanups.push(() => sim.stop());
    const changes: AlarmChange[] = [];
    gateway.alarms.onChange((c) => changes.push(c));
    const base = `http://127.0.0.1:${gateway.address()!.port}`;
    const status = async () => (await (await fetch(`${base}/api/status`)).json()) as GatewayStatus;
    const doorAlarms = async () => (await status()).alarms.filter((a): a is DoorAlarmJson => a.kind !== 'reader_locked');
    const contactIs = (c: string) => until(`the door seen online and ${c}`, async () => ((await status()).doors[0]?.contact === c ? true : undefined));
    await contactIs('closed');
    return { gateway, sim, changes, base, raw, doorAlarms, contactIs };
  }

  it('a door opened with no badge is forced_open in /api/status; acknowledged, then closed, it is gone', async () => {
    const { gateway, sim, changes, base, doorAlarms } = await setup();
    sim.simulateOpen();
    const [forced] = await until('forced_open listed', async () => {
      const list = await doorAlarms();
      return list.length > 0 ? list : undefined;
    });
    expect(forced).toMatchObject({ door: 'front', kind: 'forced_open', acknowledgedAt: null, clearedAt: null });
    expect(forced!.id).toBe(`front:forced_open:${forced!.raisedAt}`);
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain('Alarms');
    expect(page).toContain('door front');

    const outcome = gateway.alarms.acknowledge(forced!.id, 'console:alice', Date.now());
    expect(outcome).toMatchObject({ status: 'acknowledged', alarm: { id: forced!.id, acknowledgedBy: 'console:alice' } });
    // Acknowledged but still open: still listed, with who acknowledged it.
    expect(await doorAlarms()).toEqual([expect.objectContaining({ id: forced!.id, acknowledgedBy: 'console:alice', clearedAt: null })]);

    sim.simulateClose();
    await until('the alarm gone once closed', async () => ((await doorAlarms()).length === 0 ? true : undefined));
    expect(changes.map((c) => `${c.change} ${c.alarm.kind}`)).toEqual(['raised forced_open', 'acknowledged forced_open', 'cleared forced_open']);
    expect(gateway.alarms.acknowledge(forced!.id, 'console:alice', Date.now())).toEqual({ status: 'not_found' });
  });

  it('a badge opens the door without an alarm; kept open past the limit it is held_open, cleared on close, gone once acknowledged', async () => {
    const { gateway, sim, changes, doorAlarms } = await setup();
    importCards(gateway.store, 'email,card,doors\nana@example.com,7340861,front\n', Date.now());
    const executed = new Promise<void>((resolve) => sim.once('pulse', () => resolve()));
    gateway.pipeline.onLine(reader, '7340861');
    await executed;
    sim.simulateOpen();
    const [held] = await until('held_open listed', async () => {
      const list = await doorAlarms();
      return list.length > 0 ? list : undefined;
    });
    expect(held).toMatchObject({ door: 'front', kind: 'held_open', clearedAt: null });
    expect(changes.map((c) => `${c.change} ${c.alarm.kind}`)).toEqual(['raised held_open']); // the badge: not forced

    sim.simulateClose();
    const [cleared] = await until('cleared, waiting for an acknowledgement', async () => {
      const list = await doorAlarms();
      return list[0]?.clearedAt ? list : undefined;
    });
    expect(cleared).toMatchObject({ id: held!.id, acknowledgedAt: null });
    expect(gateway.alarms.acknowledge(held!.id, 'api:token', Date.now())).toMatchObject({ status: 'acknowledged' });
    expect(await doorAlarms()).toEqual([]);
    expect(gateway.alarms.active()).toEqual([]);
  });

  it('a reload applies a new limit to a door that is open now', async () => {
    const { gateway, sim, changes, raw, doorAlarms, contactIs } = await setup({ heldOpenSeconds: 3600, forcedOpen: false });
    sim.simulateOpen();
    await contactIs('open');
    expect(changes).toEqual([]); // forced-open is off for this door, and an hour is far off
    const plan = await gateway.reload(parseConfig({ ...raw, doors: [{ ...raw.doors[0]!, alarms: { heldOpenSeconds: 1, forcedOpen: false } }] }));
    expect(plan.live).toEqual(['doors.front.alarms.heldOpenSeconds']);
    const [held] = await until('held_open after the reload', async () => {
      const list = await doorAlarms();
      return list.length > 0 ? list : undefined;
    });
    expect(held).toMatchObject({ door: 'front', kind: 'held_open' });
  });

  it('a door held unlocked by an operator does not alarm; released and left open, it is held_open', async () => {
    const { gateway, sim, changes, doorAlarms, contactIs } = await setup();
    const executed = new Promise<void>((resolve) => sim.once('pulse', () => resolve()));
    expect(gateway.doorHold.hold('front', Date.now() + 60_000, 'console:alice')).toMatchObject({ status: 'held', relay: 'sent' });
    await executed;
    sim.simulateOpen();
    await contactIs('open');
    // Well past what one pulse authorises plus the 1 s limit: only the hold keeps it quiet.
    const quietUntil = Date.now() + 500 + 300 + 1000 + 1000 + 500;
    const pulsesBefore = sim.state().executed;
    await until('the hold past the limit', () => (Date.now() > quietUntil && sim.state().executed > pulsesBefore ? true : undefined));
    expect(changes).toEqual([]);
    const releasedAt = Date.now();
    expect(gateway.doorHold.release('front', 'console:alice')).toMatchObject({ status: 'released' });
    const [held] = await until('held_open after the release', async () => {
      const list = await doorAlarms();
      return list.length > 0 ? list : undefined;
    });
    expect(held).toMatchObject({ door: 'front', kind: 'held_open' });
    expect(held!.raisedAt).toBeGreaterThanOrEqual(releasedAt + 1000);
  });
});
