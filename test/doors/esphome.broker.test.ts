import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DoorRelay } from '../../src/doors/door-relay.js';
import { EsphomeSimulator } from '../../src/doors/simulators/device-sims.js';
import { silentLogger } from '../../src/util/log.js';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { door, gatedConnect, mqttConfig, waitFor } from './fixtures.js';

/*
 * ESPHome's switch has no expiry and no timer: ON stays on until something says OFF. These are
 * the gateway's stand-ins (drivers/esphome.ts), each over a real broker against the simulator:
 * no unlock sent to a device that says it is offline, the OFF after pulseMs, an OFF owed across
 * a link drop, an OFF on connect for a switch left on, and the pulses ended on a clean stop.
 */

let broker: TestBroker;
let n = 0;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.stop(); });
afterEach(async () => { for (const fn of cleanups.splice(0).reverse()) await fn(); });

async function site(opts: { gated?: boolean; startRelay?: boolean } = {}) {
  const id = `e${++n}`;
  const clock = new FakeClock();
  const topic = `door-node-${id}/switch/door_strike`;
  const gated = opts.gated ? gatedConnect(broker.port, await freePort()) : null;
  const relay = new DoorRelay({
    mqtt: mqttConfig(broker.url, broker.protocolVersions.includes(5) ? 5 : 4),
    siteId: `s-${id}`,
    doors: [door('front', { driver: 'esphome', topic, pulseMs: 1500 })],
    clock,
    logger: silentLogger,
    reconnectPeriodMs: 50,
    ...(gated ? { connect: gated.connect } : {}),
  });
  const device = new EsphomeSimulator({ url: broker.url, topic, clock });
  cleanups.push(() => relay.stop(), () => device.stop());
  await device.start();
  if (opts.startRelay !== false) {
    await relay.start();
    // The relay's OFF on connect (nothing was in a pulse): seen before any test step starts.
    await device.waitFor('the OFF on connect', (m) => m.payload === 'OFF');
  }
  return { relay, device, clock, topic, gated };
}

const status = (relay: DoorRelay) => relay.doorStatus()[0]!;
/** An OFF received after the mark: the relay also sends one on every connect, before any test step. */
const offSince = (device: EsphomeSimulator, mark: number, what: string) => device.waitFor(what, (m) => m.payload === 'OFF' && device.received.indexOf(m) >= mark);
const offsSince = (device: EsphomeSimulator, mark: number) => device.received.slice(mark).filter((m) => m.payload === 'OFF');
const until = (relay: DoorRelay, what: string, ok: () => boolean) => waitFor(what, (fn) => relay.onState(fn), () => (ok() ? true : undefined));

describe('esphome driver: the gateway ends what the device cannot', () => {
  it('refuses an unlock while the device says it is offline, and sends again once it is back', async () => {
    const { relay, device, topic, clock } = await site();
    await until(relay, 'online', () => status(relay).online === true);
    device.crash();
    await until(relay, 'offline', () => status(relay).online === false);
    expect(relay.pulse('front')).toEqual({ status: 'unreachable', commandId: null });
    expect(relay.stats()).toMatchObject({ sent: 0, unreachable: 1 });
    const back = new EsphomeSimulator({ url: broker.url, topic, clock });
    cleanups.push(() => back.stop());
    await back.start();
    await until(relay, 'online again', () => status(relay).online === true);
    expect(relay.pulse('front').status).toBe('sent');
    await back.waitFor('the ON', (m) => m.payload === 'ON');
    expect(device.received.map((m) => m.payload)).not.toContain('ON');
  });

  it('an OFF due while the link is down is sent on reconnect; the relay stays on only until then', async () => {
    const { relay, device, clock, gated } = await site({ gated: true });
    await until(relay, 'online', () => status(relay).online === true);
    const mark = device.received.length;
    relay.pulse('front');
    await until(relay, 'unlocked', () => status(relay).relay === 'unlocked');
    gated!.gate.open = false;
    // The pulse ends the moment the link is seen down: the OFF cannot go, so it is owed.
    const down = waitFor('link down', (fn) => relay.onConnection((up) => { if (!up) fn(); }), () => (relay.connected() ? undefined : true));
    gated!.clients[0]!.stream.destroy();
    await down;
    clock.advance(1500);
    expect(device.isOn(1)).toBe(true);
    expect(relay.stats().pulseEnds).toBe(0);
    gated!.gate.open = true;
    await offSince(device, mark, 'the owed OFF');
    await until(relay, 'locked', () => status(relay).relay === 'locked');
    expect(device.isOn(1)).toBe(false);
    expect(relay.stats().pulseEnds).toBe(1);
  });

  it('on connect, a switch left on (a gateway restarted mid-pulse, a hand on the switch) is sent OFF', async () => {
    const { relay, device, topic } = await site({ startRelay: false });
    const hand = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    cleanups.push(() => hand.endAsync(true));
    await hand.publishAsync(`${topic}/command`, 'ON', { qos: 1 });
    await device.waitFor('the hand ON', (m) => m.payload === 'ON');
    expect(device.isOn(1)).toBe(true);
    await relay.start();
    await device.waitFor('the OFF on connect', (m) => m.payload === 'OFF');
    expect(device.isOn(1)).toBe(false);
  });

  it('a clean stop mid-pulse ends the pulse before going offline', async () => {
    const { relay, device } = await site();
    await until(relay, 'online', () => status(relay).online === true);
    const mark = device.received.length;
    relay.pulse('front');
    await device.waitFor('the ON', (m) => m.payload === 'ON');
    await relay.stop();
    await offSince(device, mark, 'the OFF on stop');
    expect(device.isOn(1)).toBe(false);
  });

  it('a second unlock within the pulse restarts the gateway timer rather than ending early', async () => {
    const { relay, device, clock } = await site();
    await until(relay, 'online', () => status(relay).online === true);
    const mark = device.received.length;
    relay.pulse('front');
    await until(relay, 'unlocked', () => status(relay).relay === 'unlocked');
    clock.advance(1000);
    relay.pulse('front');
    clock.advance(1000); // 2 s after the first, 1 s after the second: still on
    await device.waitFor('the second ON', (m) => m.payload === 'ON' && device.received.indexOf(m) > mark);
    expect(offsSince(device, mark)).toEqual([]);
    clock.advance(500);
    await offSince(device, mark, 'the OFF');
    expect(relay.stats().pulseEnds).toBe(1);
  });
});
