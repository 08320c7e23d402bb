import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DoorRelay, type AckEvent } from '../../src/doors/door-relay.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { PulseCommand, topics } from '../../src/doors/protocol.js';
import { RELOCK_GRACE_MS } from '../../src/doors/relock-backstop.js';
import { createLogger, silentLogger, type Logger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { door, mqttConfig, Observer, PREFIX, waitFor } from './fixtures.js';

let broker: TestBroker;
let siteCounter = 0;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.stop(); });
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A fresh site per test: its own topics, so retained messages never leak between tests. */
async function setup(opts: { protocolVersion?: 4 | 5; simClock?: FakeClock; startSim?: boolean; logger?: Logger } = {}) {
  const site = `site${++siteCounter}`;
  const t = topics(PREFIX, site);
  const clock = new FakeClock();
  const v = opts.protocolVersion ?? 5;
  const clients: MqttClient[] = [];
  const noDelay: Array<boolean | undefined> = [];
  const connect = ((url: string, o: IClientOptions) => {
    const client = mqtt.connect(url, o);
    clients.push(client);
    const socket = client.stream as import('node:net').Socket;
    const setNoDelay = socket.setNoDelay.bind(socket);
    socket.setNoDelay = (on?: boolean) => {
      noDelay.push(on);
      return setNoDelay(on);
    };
    return client;
  }) as typeof mqtt.connect;
  const relay = new DoorRelay({ mqtt: mqttConfig(broker.url, v), siteId: site, doors: [door('front')], clock, logger: opts.logger ?? silentLogger, reconnectPeriodMs: 100, connect });
  const sim = new DoorSimulator({ url: broker.url, prefix: PREFIX, siteId: site, doorId: 'front', clock: opts.simClock ?? clock, protocolVersion: v, fw: '1.0.0' });
  const observer = await Observer.connect(broker.url, v);
  cleanups.push(() => observer.close(), () => relay.stop(), () => sim.stop());
  await relay.start();
  if (opts.startSim !== false) await sim.start();
  return { site, t, clock, relay, sim, observer, clients, noDelay };
}

const nextAck = (relay: DoorRelay): Promise<AckEvent> => {
  let got: AckEvent | undefined;
  return waitFor('door ack', (fn) => relay.onAck((e) => { got = e; fn(); }), () => got);
};

describe('DoorRelay ↔ DoorSimulator over a real broker', () => {
  it('puts the unlock on the wire before pulse() returns, on a socket without Nagle', async () => {
    const { relay, clients, noDelay } = await setup({ startSim: false });
    const socket = clients[0]!.stream as import('node:net').Socket;
    // Something already waiting in the socket's buffer must not hold the unlock back either.
    socket.cork();
    expect(relay.pulse('front').status).toBe('sent');
    expect(socket.writableCorked).toBe(0);
    expect(socket.writableLength).toBe(0); // handed to the kernel, not queued for a later tick
    expect(noDelay).toEqual([true]);
  });

  it('pulse reaches the door, which unlocks, acks executed, and relocks after pulseMs', async () => {
    const { relay, sim, clock } = await setup();
    const acked = nextAck(relay);
    const outcome = relay.pulse('front');
    expect(outcome.status).toBe('sent');
    const ack = await acked;
    expect(ack.ack).toMatchObject({ id: outcome.commandId, result: 'executed' });
    expect(ack.late).toBe(false);
    expect(sim.state()).toMatchObject({ relay: 'unlocked', executed: 1 });
    const [status] = relay.doorStatus();
    expect(status).toMatchObject({ doorId: 'front', pendingAcks: 0, lastAck: { commandId: outcome.commandId, result: 'executed' } });
    await waitFor('unlocked state', (fn) => relay.onState(fn), () => relay.doorStatus()[0]?.relay === 'unlocked' ? true : undefined);
    const locked = waitFor('locked state', (fn) => relay.onState(fn), () => relay.doorStatus()[0]?.relay === 'locked' ? true : undefined);
    clock.advance(3000);
    await locked;
    expect(sim.state().relay).toBe('locked');
    expect(relay.stats()).toMatchObject({ sent: 1, acked: 1, missingAcks: 0 });
  });

  it('publishes the command QoS 1, not retained, with MQTT 5 message expiry', async () => {
    const { relay, observer, t } = await setup({ startSim: false });
    await observer.subscribe(t.cmd('front'), true);
    const seen = observer.next('command', (p) => p.topic === t.cmd('front'));
    const outcome = relay.pulse('front');
    const packet = await seen;
    expect(packet.retain).toBe(false);
    expect(packet.qos).toBe(1);
    expect(packet.properties?.messageExpiryInterval).toBe(2);
    const command = PulseCommand.parse(packet.payload as Buffer);
    expect(command).toMatchObject({ id: outcome.commandId, channel: 1, pulseMs: 3000 });
    expect(command.expiresAt - command.issuedAt).toBe(2000);
  });

  it('a pulse for a read 1.5 s old carries only what is left: broker expiry 1 s, expiresAt from the read', async () => {
    const { relay, observer, t, clock } = await setup({ startSim: false });
    await observer.subscribe(t.cmd('front'), true);
    const seen = observer.next('command', (p) => p.topic === t.cmd('front'));
    const readAt = clock.now() - 1500;
    relay.pulse('front', readAt);
    const packet = await seen;
    expect(packet.properties?.messageExpiryInterval).toBe(1);
    expect(PulseCommand.parse(packet.payload as Buffer)).toMatchObject({ issuedAt: readAt, expiresAt: readAt + 2000 });
  });

  it('a command delivered after its expiresAt is acked expired and not executed', async () => {
    const late = new FakeClock(new FakeClock().now() + 10_000); // the door sees the command 10 s "later"
    const { relay, sim } = await setup({ simClock: late });
    const acked = nextAck(relay);
    relay.pulse('front');
    expect((await acked).ack.result).toBe('expired');
    expect(sim.state()).toMatchObject({ relay: 'locked', executed: 0 });
    expect(relay.doorStatus()[0]?.lastAck?.result).toBe('expired');
  });

  it('a redelivered command id is executed once and acked duplicate', async () => {
    const { sim, observer, t, clock } = await setup();
    const now = clock.now();
    const command = new PulseCommand('dup-command-0001', 1, 3000, now, now + 2000).serialize();
    await observer.subscribe(t.ack('front'));
    const first = observer.next('first ack', (p) => p.topic === t.ack('front'));
    await observer.client.publishAsync(t.cmd('front'), command, { qos: 1 });
    expect(observer.json(await first)).toMatchObject({ id: 'dup-command-0001', result: 'executed' });
    const second = observer.next('second ack', (p) => p.topic === t.ack('front'));
    await observer.client.publishAsync(t.cmd('front'), command, { qos: 1 });
    expect(observer.json(await second)).toMatchObject({ id: 'dup-command-0001', result: 'duplicate' });
    expect(sim.state().executed).toBe(1);
  });

  it('a retained command is ignored by the door', async () => {
    const { sim, observer, t, clock } = await setup({ startSim: false });
    const now = clock.now();
    await observer.client.publishAsync(t.cmd('front'), new PulseCommand('retained-cmd-01', 1, 3000, now, now + 2000).serialize(), { qos: 1, retain: true });
    cleanups.push(async () => { await observer.client.publishAsync(t.cmd('front'), '', { qos: 1, retain: true }); });
    let ignored: string | undefined;
    sim.on('ignored', (e) => { ignored = e.why; });
    const seen = waitFor('ignored retained command', (fn) => { sim.on('ignored', fn); return () => sim.off('ignored', fn); }, () => ignored);
    await sim.start();
    expect(await seen).toBe('retained');
    expect(sim.state()).toMatchObject({ relay: 'locked', executed: 0 });
  });

  it('announces itself retained online, and the broker delivers its offline last-will on an unclean death', async () => {
    const { relay, observer, t, clients } = await setup({ startSim: false });
    await observer.subscribe(t.gatewayStatus);
    const retained = await observer.first('retained online', (p) => p.topic === t.gatewayStatus);
    expect(retained.retain).toBe(true);
    expect(observer.json(retained)).toMatchObject({ v: 1, state: 'online' });
    const will = observer.next('last-will offline', (p) => p.topic === t.gatewayStatus && observer.json(p).state === 'offline');
    const back = observer.next('online again', (p) => p.topic === t.gatewayStatus && observer.json(p).state === 'online');
    // Kill the socket without DISCONNECT, as a crash or a pulled cable would.
    clients[0]?.stream.destroy();
    await will;
    await back; // and it reconnects by itself
    const offline = observer.next('clean offline', (p) => p.topic === t.gatewayStatus && observer.json(p).state === 'offline');
    await relay.stop();
    await offline;
    expect(relay.connected()).toBe(false);
  });

  it('keeps the door state retained, and the door last-will marks it offline', async () => {
    const { relay, sim, observer, t } = await setup();
    await observer.subscribe(t.state('front'));
    const retained = await observer.first('retained state', (p) => p.topic === t.state('front'));
    expect(retained.retain).toBe(true);
    expect(observer.json(retained)).toMatchObject({ online: true, relay: 'locked', contact: 'closed', fw: '1.0.0' });
    // The relay's copy travels separately from the observer's: wait for it, do not assume it.
    await waitFor('relay sees the door', (fn) => relay.onState(fn), () => relay.doorStatus()[0]?.online === true ? true : undefined);
    expect(relay.doorStatus()[0]).toMatchObject({ online: true, relay: 'locked', contact: 'closed', fw: '1.0.0' });
    const opened = waitFor('contact open', (fn) => relay.onState(fn), () => relay.doorStatus()[0]?.contact === 'open' ? true : undefined);
    sim.simulateOpen();
    await opened;
    const offline = waitFor('door offline', (fn) => relay.onState(fn), () => relay.doorStatus()[0]?.online === false ? true : undefined);
    sim.crash();
    await offline;
    expect(relay.doorStatus()[0]).toMatchObject({ online: false, contact: 'unknown' });
  });

  it('works with MQTT 3.1.1 (protocolVersion 4): no message expiry, expiresAt still protects', async () => {
    const { relay, observer, t } = await setup({ protocolVersion: 4 });
    await observer.subscribe(t.cmd('front'));
    const seen = observer.next('command', (p) => p.topic === t.cmd('front'));
    const acked = nextAck(relay);
    relay.pulse('front');
    expect((await acked).ack.result).toBe('executed');
    const packet = await seen;
    expect(packet.properties?.messageExpiryInterval).toBeUndefined();
    expect(PulseCommand.parse(packet.payload as Buffer).expiresAt).toBeGreaterThan(0);
  });

  it('counts an ack that never comes as missing, via the injected clock', async () => {
    const { relay, clock } = await setup({ startSim: false });
    relay.pulse('front');
    expect(relay.doorStatus()[0]?.pendingAcks).toBe(1);
    clock.advance(5000);
    expect(relay.doorStatus()[0]?.pendingAcks).toBe(0);
    expect(relay.stats()).toMatchObject({ sent: 1, missingAcks: 1 });
  });

  it('arms no stuck-on backstop for a lintel door: its firmware relocks by itself and has no OFF', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
    // The door's own clock stands still, so its relay stays on while the gateway's time runs.
    const { relay, clock } = await setup({ simClock: new FakeClock(), logger });
    relay.pulse('front');
    await waitFor('unlocked state', (fn) => relay.onState(fn), () => relay.doorStatus()[0]?.relay === 'unlocked' ? true : undefined);
    clock.advance(3000 + RELOCK_GRACE_MS + 1000);
    expect(lines.filter((l) => l.includes('still on past its pulse'))).toEqual([]);
    expect(relay.stats().stuckRelocks).toBe(0);
  });
});
