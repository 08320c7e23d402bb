import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DoorRelay, type AckEvent } from '../../src/doors/door-relay.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { doorCheck } from '../../src/status-builder.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { door, mqttConfig, PREFIX, waitFor } from './fixtures.js';

/*
 * The door health rule (status-builder.ts doorCheck) on what a real relay reports of a real
 * (simulated) controller: online and answering is healthy; an unlock that went unanswered past
 * the ack timeout is a fault until the door's next ack; a controller that said offline is one.
 */

let broker: TestBroker;
let siteCounter = 0;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.stop(); });
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup() {
  const site = `health${++siteCounter}`;
  const clock = new FakeClock();
  const v = broker.protocolVersions.includes(5) ? 5 : 4;
  const relay = new DoorRelay({ mqtt: mqttConfig(broker.url, v), siteId: site, doors: [door('front')], clock, logger: silentLogger, reconnectPeriodMs: 100, ackTimeoutMs: 5000 });
  // The door's own clock is the system's: commands stay fresh while the gateway's clock jumps.
  const sim = new DoorSimulator({ url: broker.url, prefix: PREFIX, siteId: site, doorId: 'front', protocolVersion: v });
  cleanups.push(() => relay.stop(), () => sim.stop());
  await relay.start();
  await sim.start();
  await waitFor('door online', (fn) => relay.onState(fn), () => (relay.doorStatus()[0]?.online === true ? true : undefined));
  return { relay, sim, clock };
}

const front = (relay: DoorRelay) => doorCheck(relay.doorStatus()[0], relay.connected());

describe('door health from the relay', () => {
  it('an online door that acks is healthy', async () => {
    const { relay } = await setup();
    expect(front(relay)).toEqual({ ok: true, detail: 'online' });
    let ack: AckEvent | undefined;
    const acked = waitFor('ack', (fn) => relay.onAck((e) => { ack = e; fn(); }), () => ack);
    expect(relay.pulse('front').status).toBe('sent');
    await acked;
    expect(front(relay)).toEqual({ ok: true, detail: 'online' });
  });

  it('an unlock unanswered past the ack timeout fails the door until its next ack, a late one too', async () => {
    const { relay, clock } = await setup();
    let ack: AckEvent | undefined;
    const acked = waitFor('late ack', (fn) => relay.onAck((e) => { ack = e; fn(); }), () => ack);
    expect(relay.pulse('front').status).toBe('sent');
    // The gateway's clock passes the timeout before the door's answer can have arrived.
    clock.advance(6000);
    expect(relay.stats().missingAcks).toBe(1);
    const missed = front(relay);
    expect(missed.ok).toBe(false);
    expect(missed.detail).toMatch(/^unlock not acknowledged \(.+\); no ack since$/);
    expect((await acked).late).toBe(true);
    expect(front(relay)).toEqual({ ok: true, detail: 'online' });
  });

  it('a controller that went offline (clean stop or its last will) fails the door', async () => {
    const { relay, sim } = await setup();
    await sim.stop();
    await waitFor('door offline', (fn) => relay.onState(fn), () => (relay.doorStatus()[0]?.online === false ? true : undefined));
    expect(front(relay)).toEqual({ ok: false, detail: 'controller offline' });
  });

  it('with the broker gone no door can be vouched for', () => {
    expect(doorCheck(undefined, false)).toEqual({ ok: false, detail: 'unknown: the broker is disconnected' });
    expect(doorCheck(undefined, true)).toEqual({ ok: false, detail: 'no report from its controller yet' });
  });
});
