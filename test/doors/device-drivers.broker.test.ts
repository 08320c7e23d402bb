import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DoorConfig } from '../../src/config/schema.js';
import { DoorRelay, type AckEvent } from '../../src/doors/door-relay.js';
import { RELOCK_GRACE_MS } from '../../src/doors/relock-backstop.js';
import { EsphomeSimulator, ShellySimulator, TasmotaSimulator, Zigbee2MqttSimulator } from '../../src/doors/simulators/device-sims.js';
import type { RelayDevice, RelayDeviceOptions } from '../../src/doors/simulators/relay-device.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { door, mqttConfig, waitFor } from './fixtures.js';

/*
 * Each off-the-shelf driver against its device simulator over a real broker (mosquitto when
 * installed): unlock, ack, the device's own relock, status mapping, and the late-unlock
 * guarantees — nothing queued for a device that is away, nothing retained, a stuck relay
 * switched off by the gateway.
 */

let broker: TestBroker;
let n = 0;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.stop(); });
afterEach(async () => { for (const fn of cleanups.splice(0).reverse()) await fn(); });

interface Case {
  driver: DoorConfig['driver'];
  topic: (id: string) => string;
  sim: (o: RelayDeviceOptions) => RelayDevice;
  /** The topic the unlock is published on (where a queued or retained one would show up). */
  commandTopic: (topic: string) => string;
  /** A probe command the device accepts harmlessly, to know its queue has been delivered. */
  probe: (topic: string) => string;
  acks: 'command-id' | 'relay-state';
  /** Who switches the relay off after pulseMs: the device's own timer, or the gateway's OFF. */
  pulseEnd: 'device' | 'gateway';
}

const cases: Case[] = [
  { driver: 'shelly-gen2', topic: (id) => `shellyplus1-${id}`, sim: (o) => new ShellySimulator(o), commandTopic: (t) => `${t}/rpc`, probe: () => JSON.stringify({ id: 'probe', src: 'probe', method: 'Shelly.GetStatus' }), acks: 'command-id', pulseEnd: 'device' },
  { driver: 'tasmota', topic: (id) => `tasmota_${id}`, sim: (o) => new TasmotaSimulator(o), commandTopic: (t) => `cmnd/${t}/Power1`, probe: () => '', acks: 'relay-state', pulseEnd: 'device' },
  { driver: 'zigbee2mqtt', topic: (id) => `zigbee2mqtt/door-${id}`, sim: (o) => new Zigbee2MqttSimulator(o), commandTopic: (t) => `${t}/set`, probe: () => '{}', acks: 'relay-state', pulseEnd: 'device' },
  { driver: 'esphome', topic: (id) => `door-node-${id}/switch/door_strike`, sim: (o) => new EsphomeSimulator(o), commandTopic: (t) => `${t}/command`, probe: () => 'PROBE', acks: 'relay-state', pulseEnd: 'gateway' },
];

async function site(c: Case, simOpts: Partial<RelayDeviceOptions> = {}, sim?: (o: RelayDeviceOptions) => RelayDevice) {
  const id = `d${++n}`;
  const clock = new FakeClock();
  const topic = c.topic(id);
  const relay = new DoorRelay({ mqtt: mqttConfig(broker.url, broker.protocolVersions.includes(5) ? 5 : 4), siteId: `s${n}`, doors: [door('front', { driver: c.driver, topic, pulseMs: 1500 })], clock, logger: silentLogger, reconnectPeriodMs: 100 });
  const device = (sim ?? c.sim)({ url: broker.url, topic, clock, ...simOpts });
  cleanups.push(() => relay.stop(), () => device.stop());
  await relay.start();
  await device.start();
  return { relay, device, clock, topic };
}

const status = (relay: DoorRelay) => relay.doorStatus()[0]!;
const until = <T>(relay: DoorRelay, what: string, probe: () => T | undefined) => waitFor(what, (fn) => relay.onState(fn), probe);

describe.each(cases)('$driver driver ↔ simulator over a real broker', (c) => {
  it('unlocks, acks, and the relay goes off after pulseMs (device timer or gateway OFF); status follows the device', async () => {
    const { relay, device, clock } = await site(c);
    await until(relay, 'device online', () => (status(relay).online === true ? true : undefined));
    let ack: AckEvent | undefined;
    const acked = waitFor('ack', (fn) => relay.onAck((e) => { ack = e; fn(); }), () => ack);
    const out = relay.pulse('front');
    expect(out.status).toBe('sent');
    expect((await acked).ack).toMatchObject({ id: out.commandId, result: 'executed' });
    expect(relay.stats().inferredAcks).toBe(c.acks === 'relay-state' ? 1 : 0);
    expect(status(relay)).toMatchObject({ driver: c.driver, reports: { acks: c.acks, contact: false }, pendingAcks: 0 });
    await until(relay, 'unlocked', () => (status(relay).relay === 'unlocked' ? true : undefined));
    expect(device.isOn(1) || device.isOn(0)).toBe(true);
    const before = device.received.length;
    clock.advance(1500); // the device's own timer, or (esphome, which has none) the gateway's
    await until(relay, 'locked', () => (status(relay).relay === 'locked' ? true : undefined));
    expect(device.switched.map((s) => s.on)).toEqual([true, false]);
    expect(relay.stats().stuckRelocks).toBe(0);
    expect(relay.stats().pulseEnds).toBe(c.pulseEnd === 'gateway' ? 1 : 0);
    expect(device.received.slice(before).map((m) => m.payload)).toEqual(c.pulseEnd === 'gateway' ? ['OFF'] : []);
  });

  it('shows the device offline (relay unknown) when it drops off the broker', async () => {
    const { relay, device } = await site(c);
    await until(relay, 'device online', () => (status(relay).online === true ? true : undefined));
    device.crash();
    await until(relay, 'device offline', () => (status(relay).online === false ? true : undefined));
    expect(status(relay).relay).toBe('unknown');
  });

  it('leaves nothing queued or retained for a device that is away: it never gets a late unlock', async () => {
    const clientId = `persistent-${c.driver}-${n}`;
    const { relay, device, topic } = await site(c, { clean: false, clientId });
    await device.stop(); // a clean DISCONNECT: the persistent session stays, with its QoS 1 subscription
    expect(relay.pulse('front').status).toBe('sent');
    const back = c.sim({ url: broker.url, topic, clean: false, clientId });
    cleanups.push(() => back.stop());
    await back.start();
    // A QoS 1 probe after the reconnect: anything the broker had kept would be delivered first.
    const probe = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    cleanups.push(() => probe.endAsync(true));
    await probe.publishAsync(c.commandTopic(topic), c.probe(topic), { qos: 1 });
    await back.waitFor('the probe', (m) => m.topic === c.commandTopic(topic) && m.payload === c.probe(topic));
    expect(back.received.map((m) => m.payload)).toEqual([c.probe(topic)]);
  });
});

describe('stuck-on backstop', () => {
  it('switches off a zigbee switch whose firmware ignores on_time, once it stays on past pulseMs', async () => {
    const z2m = cases.find((c) => c.driver === 'zigbee2mqtt')!;
    const { relay, device, clock } = await site(z2m, {}, (o) => new Zigbee2MqttSimulator({ ...o, supportsOnTime: false }));
    relay.pulse('front');
    await until(relay, 'unlocked', () => (status(relay).relay === 'unlocked' ? true : undefined));
    clock.advance(1500 + RELOCK_GRACE_MS);
    await until(relay, 'locked by the gateway', () => (status(relay).relay === 'locked' ? true : undefined));
    expect(device.isOn(1)).toBe(false);
    expect(relay.stats().stuckRelocks).toBe(1);
    expect(device.received.at(-1)?.payload).toBe('{"state":"OFF"}');
  });
});
