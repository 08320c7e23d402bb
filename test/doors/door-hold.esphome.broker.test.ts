import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledUnlocks } from '../../src/access/policy/first-person-in.js';
import { DoorHold, TICK_MS } from '../../src/doors/door-hold.js';
import { DoorRelay } from '../../src/doors/door-relay.js';
import { EsphomeSimulator } from '../../src/doors/simulators/device-sims.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { door, mqttConfig, waitFor } from './fixtures.js';

/*
 * A hold on a relay whose pulses the gateway ends itself (drivers/esphome.ts: ON stays on until
 * OFF). Each re-pulse restarts the relay's OFF timer (pulse-ender.ts), so the hold must never
 * let an OFF through, and the OFF must still come one pulse after the hold ends.
 */

let broker: TestBroker;
let siteCounter = 0;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.stop(); });
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A site with no scheduled-unlock doors: only operator holds. */
const NO_SCHEDULED_DOORS: ScheduledUnlocks = { scheduledDoors: () => [], shouldBeUnlocked: () => false };

describe('DoorHold on a device the gateway switches off itself (ESPHome: no timer of its own)', () => {
  it('no OFF reaches the switch during the hold; the OFF comes one pulse after the hold ends', async () => {
    const clock = new FakeClock();
    const topic = `door-node-hold${++siteCounter}/switch/door_strike`;
    const doors = [door('front', { driver: 'esphome', topic, pulseMs: 1500 })];
    const relay = new DoorRelay({ mqtt: mqttConfig(broker.url), siteId: `hold${siteCounter}`, doors, clock, logger: silentLogger, reconnectPeriodMs: 50 });
    const device = new EsphomeSimulator({ url: broker.url, topic, clock });
    const hold = new DoorHold({ relay, doors, scheduled: NO_SCHEDULED_DOORS, clock, logger: silentLogger });
    cleanups.push(() => relay.stop(), () => device.stop(), () => hold.stop());
    await device.start();
    await relay.start();
    await device.waitFor('the OFF on connect', (m) => m.payload === 'OFF');
    const mark = device.received.length;
    const commands = () => device.received.slice(mark);
    const delivered = () => waitFor('commands delivered', (fn) => {
      const timer = setInterval(fn, 5);
      return () => clearInterval(timer);
    }, () => (commands().filter((m) => m.payload === 'ON').length >= relay.stats().sent ? true : undefined));

    hold.start();
    const start = clock.now();
    hold.hold('front', start + 20_000, 'alice');
    await delivered();
    for (let t = 0; t < 20_000; t += TICK_MS) {
      clock.advance(TICK_MS);
      await delivered();
    }
    expect(commands().filter((m) => m.payload === 'OFF')).toEqual([]);
    // A 1.5 s pulse is renewed with 750 ms of it left, every 500–750 ms: not on every tick.
    const ons = commands().filter((m) => m.payload === 'ON').map((m) => m.at);
    const gaps = ons.slice(1).map((at, i) => at - ons[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(750);
    // The relay's own OFF timer (pulse-ender.ts) ends the last pulse, exactly pulseMs after it.
    const lastOn = commands().at(-1)!.at;
    const endsBefore = relay.stats().pulseEnds;
    clock.advance(lastOn + 1500 - clock.now() - 1);
    expect(relay.stats().pulseEnds).toBe(endsBefore);
    clock.advance(1);
    expect(relay.stats().pulseEnds).toBe(endsBefore + 1);
    await device.waitFor('the OFF after the last pulse', (m) => m.payload === 'OFF' && device.received.indexOf(m) >= mark);
  });
});
