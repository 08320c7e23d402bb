import { afterEach, describe, expect, it } from 'vitest';
import { DoorRelay } from '../../src/doors/door-relay.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { topics } from '../../src/doors/protocol.js';
import { silentLogger } from '../../src/util/log.js';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { door, gatedConnect, mqttConfig, Observer, PREFIX, SITE, TcpProxy, waitFor } from './fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const t = topics(PREFIX, SITE);
const connection = (relay: DoorRelay, up: boolean): Promise<true> =>
  waitFor(up ? 'relay connected' : 'relay disconnected', (fn) => relay.onConnection(fn), () => (relay.connected() === up ? true : undefined));

/**
 * The gateway's status "online" is published after (re)subscribing, and anything mqtt.js would
 * replay is sent before that: once the observer sees this live message, a late command would
 * already have arrived.
 */
const liveOnline = (observer: Observer) =>
  observer.next('live gateway online', (p) => p.topic === t.gatewayStatus && !p.retain && observer.json(p).state === 'online');

describe('DoorRelay never sends an unlock late', () => {
  it('broker down: pulse() is unreachable, and nothing is published when the broker is back', async () => {
    let broker: TestBroker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const { connect, gate } = gatedConnect(broker.port, await freePort());
    const relay = new DoorRelay({ mqtt: mqttConfig(broker.url), siteId: SITE, doors: [door('front')], clock: new FakeClock(), logger: silentLogger, connect, reconnectPeriodMs: 50 });
    cleanups.push(() => relay.stop());
    await relay.start();
    expect(relay.connected()).toBe(true);

    gate.open = false;
    const down = connection(relay, false);
    await broker.stop();
    await down;
    expect(relay.pulse('front')).toEqual({ status: 'unreachable', commandId: null });
    expect(relay.pulse('front').status).toBe('unreachable');

    broker = await startTestBroker({ port: broker.port });
    const observer = await Observer.connect(broker.url);
    cleanups.push(() => observer.close());
    await observer.subscribe(`${t.base}/#`);
    const online = liveOnline(observer);
    gate.open = true;
    await online;
    expect(relay.connected()).toBe(true);
    expect(observer.on(t.cmd('front'))).toEqual([]);
    expect(relay.stats()).toMatchObject({ sent: 0, unreachable: 2 });

    // The observer does see commands: the next pulse arrives, exactly once.
    const next = observer.next('command', (p) => p.topic === t.cmd('front'));
    expect(relay.pulse('front').status).toBe('sent');
    await next;
    expect(observer.on(t.cmd('front'))).toHaveLength(1);
  });

  it('a command in flight when the link dies is not replayed after the reconnect', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const proxy = await TcpProxy.start(broker.port);
    cleanups.push(() => proxy.close());
    const clock = new FakeClock();
    const relay = new DoorRelay({ mqtt: mqttConfig(proxy.url), siteId: SITE, doors: [door('front')], clock, logger: silentLogger, reconnectPeriodMs: 50 });
    cleanups.push(() => relay.stop());
    await relay.start();
    const observer = await Observer.connect(broker.url);
    cleanups.push(() => observer.close());
    await observer.subscribe(`${t.base}/#`);

    proxy.swallow(); // half-dead link: mqtt.js still believes it is connected
    expect(relay.pulse('front').status).toBe('sent');
    const online = liveOnline(observer);
    proxy.cut();
    await online;
    expect(observer.on(t.cmd('front'))).toEqual([]);
    clock.advance(5000);
    expect(relay.stats()).toMatchObject({ sent: 1, acked: 0, missingAcks: 1 });
  });
});

describe('DoorRelay starting while the broker is down', () => {
  it('starts anyway, refuses unlocks, and connects once the broker is reachable', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    const { connect, gate } = gatedConnect(broker.port, await freePort());
    gate.open = false;
    const relay = new DoorRelay({ mqtt: mqttConfig(broker.url), siteId: SITE, doors: [door('front')], clock: new FakeClock(), logger: silentLogger, connect, reconnectPeriodMs: 50 });
    cleanups.push(() => relay.stop());
    await relay.start();
    expect(relay.connected()).toBe(false);
    expect(relay.pulse('front').status).toBe('unreachable');
    const up = connection(relay, true);
    gate.open = true;
    await up;
    expect(relay.pulse('front').status).toBe('sent');
  });
});

describe('embedded broker (aedes, MQTT 3.1.1)', () => {
  it('carries a pulse from the relay to a door and its ack back', async () => {
    const broker = await startTestBroker({ embedded: true });
    cleanups.push(() => broker.stop());
    expect(broker.kind).toBe('embedded');
    const clock = new FakeClock();
    const relay = new DoorRelay({ mqtt: mqttConfig('embedded'), url: broker.url, protocolVersion: 4, siteId: SITE, doors: [door('front')], clock, logger: silentLogger });
    const sim = new DoorSimulator({ url: broker.url, prefix: PREFIX, siteId: SITE, doorId: 'front', clock, protocolVersion: 4 });
    cleanups.push(() => relay.stop(), () => sim.stop());
    await relay.start();
    await sim.start();
    let result: string | undefined;
    const acked = waitFor('ack', (fn) => relay.onAck((e) => { result = e.ack.result; fn(); }), () => result);
    expect(relay.pulse('front').status).toBe('sent');
    expect(await acked).toBe('executed');
  });
});
