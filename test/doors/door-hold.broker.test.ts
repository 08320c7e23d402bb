import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS, type ScheduleStates } from '../../src/access/model.js';
import { FirstPersonIn } from '../../src/access/policy/first-person-in.js';
import { DoorHold, RENEW_LEAD_MS, TICK_MS, type HoldEvent } from '../../src/doors/door-hold.js';
import { DoorRelay } from '../../src/doors/door-relay.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { createLogger } from '../../src/util/log.js';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { door, gatedConnect, mqttConfig, PREFIX, waitFor } from './fixtures.js';

const PULSE_MS = 3000;
const MINUTE = 60_000;

let broker: TestBroker;
let siteCounter = 0;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.stop(); });
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** One schedule, "hours", that the test opens and closes by hand. */
class SwitchedSchedule implements ScheduleStates {
  open = false;
  slotOf(scheduleId: string | null): number {
    if (scheduleId === null) return ALWAYS;
    if (scheduleId !== 'hours') throw new Error(`unknown schedule ${scheduleId}`);
    return 1;
  }
  isOpen(slot: number): boolean {
    return slot === ALWAYS || this.open;
  }
  isHoliday(): boolean {
    return false;
  }
}

interface LogLine { level: number; msg: string; door?: string; doors?: string[] }

/** A relay and two simulated doors on a real broker, one fake clock for all: `front` (card) and `lobby` (scheduled, first-person-in). */
async function setup(opts: { gated?: boolean } = {}) {
  const site = `hold${++siteCounter}`;
  const clock = new FakeClock();
  const lines: LogLine[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const gate = opts.gated ? gatedConnect(broker.port, await freePort()) : null;
  const doors = [door('front', { pulseMs: PULSE_MS }), door('lobby', { pulseMs: PULSE_MS })];
  const relay = new DoorRelay({ mqtt: mqttConfig(broker.url), siteId: site, doors, clock, logger, reconnectPeriodMs: 50, ...(gate ? { connect: gate.connect } : {}) });
  const sims = new Map(doors.map((d) => [d.id, new DoorSimulator({ url: broker.url, prefix: PREFIX, siteId: site, doorId: d.id, clock, protocolVersion: 5 })]));
  const schedule = new SwitchedSchedule();
  const fpi = new FirstPersonIn([
    { id: 'front', mode: 'card', unlockSchedule: null, firstPersonIn: false },
    { id: 'lobby', mode: 'scheduled-unlock', unlockSchedule: 'hours', firstPersonIn: true },
  ], schedule);
  const lockdown = { on: false };
  const hold = new DoorHold({ relay, doors, scheduled: fpi, clock, logger, lockdown: () => lockdown.on });
  const events: HoldEvent[] = [];
  hold.onHold((e) => events.push(e));
  cleanups.push(() => relay.stop(), ...[...sims.values()].map((s) => () => s.stop()), () => hold.stop());
  await relay.start();
  for (const sim of sims.values()) await sim.start();
  const executed = () => [...sims.values()].reduce((n, s) => n + s.state().executed, 0);
  /** Every pulse sent so far has been executed by its simulated door (the broker round trip). */
  const settle = () => waitFor('pulses executed', (fn) => {
    for (const s of sims.values()) s.on('pulse', fn);
    return () => { for (const s of sims.values()) s.off('pulse', fn); };
  }, () => (executed() >= relay.stats().sent ? true : undefined));
  /** Moves the shared clock tick by tick, letting each tick's pulse reach its door before the next. */
  const run = async (ms: number) => {
    for (let elapsed = 0; elapsed < ms; elapsed += TICK_MS) {
      clock.advance(Math.min(TICK_MS, ms - elapsed));
      await settle();
    }
  };
  const sim = (id: string) => sims.get(id)!;
  return { clock, relay, sim, hold, fpi, schedule, lockdown, events, lines, gate, run, settle };
}

/** Records, while a test runs, every moment a door relocked. */
function relocks(sim: DoorSimulator, clock: FakeClock): number[] {
  const at: number[] = [];
  sim.on('relock', () => at.push(clock.now()));
  return at;
}

describe('DoorHold over a real broker and the reference firmware', () => {
  it('an operator hold keeps the door unlocked by re-pulsing before each pulse ends, then lets it relock', async () => {
    const { clock, hold, sim, events, run, settle } = await setup();
    hold.start();
    const front = sim('front');
    const relocked = relocks(front, clock);
    const pulses: number[] = [];
    front.on('pulse', (p) => pulses.push(p.at));
    const start = clock.now();
    expect(hold.hold('front', start + MINUTE, 'alice')).toEqual({ status: 'held', until: start + MINUTE, relay: 'sent' });
    await settle();
    expect(front.state().relay).toBe('unlocked');

    await run(MINUTE);
    expect(relocked).toEqual([]); // not one moment locked during the hold
    const gaps = pulses.slice(1).map((t, i) => t - pulses[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(PULSE_MS - RENEW_LEAD_MS);
    expect(pulses.length).toBeLessThan(MINUTE / (PULSE_MS - RENEW_LEAD_MS - TICK_MS) + 2); // not one per tick
    expect(events.at(-1)).toMatchObject({ kind: 'ended', door: 'front', cause: 'operator', heldBy: 'alice', why: 'expired' });

    // The hold is over: no more pulses, and the door relocks when the last one runs out.
    const last = pulses.at(-1)!;
    await run(PULSE_MS);
    expect(pulses.at(-1)).toBe(last);
    expect(relocked).toEqual([last + PULSE_MS]);
    expect(front.state().relay).toBe('locked');
    expect(sim('lobby').state().executed).toBe(0);
  });

  it('release stops the pulses: the door relocks within one pulse; a second release says not held', async () => {
    const { clock, hold, sim, events, run, settle } = await setup();
    hold.start();
    hold.hold('front', clock.now() + 10 * MINUTE, 'alice');
    await settle();
    await run(5000);
    const sentBefore = sim('front').state().executed;
    expect(hold.release('front', 'bob')).toEqual({ status: 'released', stillHeldBySchedule: false });
    expect(events.at(-1)).toMatchObject({ kind: 'ended', cause: 'operator', heldBy: 'alice', releasedBy: 'bob', why: 'released' });
    await run(PULSE_MS);
    expect(sim('front').state()).toMatchObject({ relay: 'locked', executed: sentBefore });
    expect(hold.release('front', 'bob')).toEqual({ status: 'not_held' });
    expect(hold.status()).toEqual([]);
  });

  it('refuses a hold for an unknown door, one already over, and any while stopped', async () => {
    const { clock, hold } = await setup();
    expect(hold.hold('front', clock.now() + MINUTE, 'alice')).toEqual({ status: 'not_running' });
    hold.start();
    expect(hold.hold('garage', clock.now() + MINUTE, 'alice')).toEqual({ status: 'unknown_door' });
    expect(hold.hold('front', clock.now(), 'alice')).toEqual({ status: 'not_in_future' });
    expect(() => hold.hold('front', Number.POSITIVE_INFINITY, 'alice')).toThrow(RangeError);
  });

  it('a reload that removes a held door ends its hold; a listener that throws is logged and counted, the hold goes on', async () => {
    const { clock, hold, sim, events, lines, run, settle } = await setup();
    hold.onHold(() => { throw new Error('audit down'); });
    hold.start();
    hold.hold('front', clock.now() + MINUTE, 'alice');
    hold.hold('lobby', clock.now() + MINUTE, 'alice');
    await settle();
    expect(lines.filter((l) => l.msg === 'door hold listener failed')).toHaveLength(2);
    hold.setDoors([door('lobby', { pulseMs: PULSE_MS })]);
    expect(events.at(-1)).toMatchObject({ kind: 'ended', door: 'front', why: 'door_removed' });
    await run(PULSE_MS + TICK_MS);
    expect(sim('front').state().relay).toBe('locked');
    expect(sim('lobby').state().relay).toBe('unlocked');
    expect(hold.status().map((s) => s.door)).toEqual(['lobby']);
  });

  it('stop() is fail secure and says so: no more pulses, the held door relocks at the end of the last one', async () => {
    const { clock, hold, fpi, schedule, sim, events, lines, run, settle } = await setup();
    hold.start();
    hold.hold('front', clock.now() + 10 * MINUTE, 'alice');
    await settle();
    await run(2000);
    hold.stop();
    expect(lines.find((l) => l.msg.startsWith('door hold stopped'))).toMatchObject({ doors: ['front'] });
    expect(events.at(-1)).toMatchObject({ kind: 'ended', door: 'front', why: 'stopped' });
    const executed = sim('front').state().executed;
    await run(PULSE_MS);
    expect(sim('front').state()).toMatchObject({ relay: 'locked', executed });
    expect(hold.hold('front', clock.now() + MINUTE, 'alice')).toEqual({ status: 'not_running' });
    // Nor does a late reviewNow (a first person badging in during shutdown) pulse anything.
    schedule.open = true;
    expect(fpi.onGranted('lobby', true, clock.now())).toBe(true);
    hold.reviewNow();
    await run(TICK_MS);
    expect(sim('front').state().executed).toBe(executed);
    expect(sim('lobby').state().executed).toBe(0);
  });

  it('a scheduled first-person-in door opens after the first privileged person, stays open through the interval, relocks when it ends', async () => {
    const { clock, hold, fpi, schedule, sim, events, run, settle } = await setup();
    hold.start();
    const lobby = sim('lobby');
    schedule.open = true;
    await run(2000);
    expect(lobby.state().executed).toBe(0); // open hours, but nobody privileged yet

    expect(fpi.onGranted('lobby', true, clock.now())).toBe(true);
    hold.reviewNow();
    await settle();
    expect(lobby.state().relay).toBe('unlocked');
    expect(events.at(-1)).toMatchObject({ kind: 'started', door: 'lobby', cause: 'schedule' });
    const relocked = relocks(lobby, clock);
    await run(MINUTE);
    expect(relocked).toEqual([]);
    expect(hold.status()).toMatchObject([{ door: 'lobby', schedule: true, operator: null, lastPulse: 'sent' }]);

    schedule.open = false;
    await run(TICK_MS);
    expect(events.at(-1)).toMatchObject({ kind: 'ended', door: 'lobby', cause: 'schedule', why: 'schedule_closed' });
    await run(PULSE_MS);
    expect(lobby.state().relay).toBe('locked');
    expect(relocked).toHaveLength(1);

    // The next interval waits for its own first person.
    schedule.open = true;
    const executed = lobby.state().executed;
    await run(5000);
    expect(lobby.state()).toMatchObject({ relay: 'locked', executed });
  });

  it('an operator release of a door its schedule holds leaves it unlocked', async () => {
    const { clock, hold, fpi, schedule, sim, run, settle } = await setup();
    hold.start();
    schedule.open = true;
    await run(TICK_MS);
    fpi.onGranted('lobby', true, clock.now());
    hold.hold('lobby', clock.now() + MINUTE, 'alice');
    await settle();
    expect(hold.release('lobby', 'alice')).toEqual({ status: 'released', stillHeldBySchedule: true });
    await run(10_000);
    expect(sim('lobby').state().relay).toBe('unlocked');
  });

  it('lockdown ends operator holds, suspends scheduled unlocks and refuses new holds', async () => {
    const { clock, hold, fpi, schedule, lockdown, sim, events, run, settle } = await setup();
    hold.start();
    schedule.open = true;
    await run(TICK_MS);
    fpi.onGranted('lobby', true, clock.now());
    hold.hold('front', clock.now() + 10 * MINUTE, 'alice');
    hold.reviewNow();
    await settle();
    expect(sim('front').state().relay).toBe('unlocked');
    expect(sim('lobby').state().relay).toBe('unlocked');

    lockdown.on = true;
    hold.reviewNow();
    expect(events.filter((e) => e.kind === 'ended').map((e) => [e.door, e.why])).toEqual([['front', 'lockdown'], ['lobby', 'lockdown']]);
    expect(hold.hold('front', clock.now() + MINUTE, 'alice')).toEqual({ status: 'lockdown' });
    await run(PULSE_MS);
    expect(sim('front').state().relay).toBe('locked');
    expect(sim('lobby').state().relay).toBe('locked');

    // Lockdown over, still inside the started interval: the scheduled unlock resumes; the operator hold does not.
    lockdown.on = false;
    await run(TICK_MS);
    await settle();
    expect(sim('lobby').state().relay).toBe('unlocked');
    expect(sim('front').state().relay).toBe('locked');
  });

  it('broker link down: the held door relocks (fail secure), one warning; back up: pulsed again at once', async () => {
    const { clock, relay, hold, sim, lines, gate, run, settle } = await setup({ gated: true });
    hold.start();
    hold.hold('front', clock.now() + 10 * MINUTE, 'alice');
    await settle();
    gate!.gate.open = false;
    const down = waitFor('relay down', (fn) => relay.onConnection(fn), () => (relay.connected() ? undefined : true));
    gate!.clients[0]!.stream.destroy();
    await down;
    await run(PULSE_MS + 1000);
    expect(sim('front').state().relay).toBe('locked');
    expect(lines.filter((l) => l.msg.startsWith('held door cannot be pulsed'))).toHaveLength(1);
    expect(hold.status()).toMatchObject([{ door: 'front', lastPulse: 'unreachable' }]);

    const pulsed = waitFor('pulse after reconnect', (fn) => { sim('front').on('pulse', fn); return () => void sim('front').off('pulse', fn); }, () => (sim('front').state().relay === 'unlocked' ? true : undefined));
    gate!.gate.open = true;
    await pulsed; // no clock advance needed: the reconnect itself triggers the pulse
    expect(lines.some((l) => l.msg === 'held door pulsed again')).toBe(true);
  });
});
