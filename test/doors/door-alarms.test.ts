import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { planReload } from '../../src/config/reload-plan.js';
import type { AlarmChange } from '../../src/doors/alarm-types.js';
import { AUTHORISED_GRACE_MS, DoorAlarms, type AlarmDoorConfig } from '../../src/doors/door-alarms.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';

/* The alarm rules on a manual clock: every input carries its instant, nothing runs by itself. */

const PULSE_MS = 3000;
const TTL_MS = 2000;
/** How long after a pulse is sent an opening is still authorised. */
const WINDOW_MS = TTL_MS + PULSE_MS + AUTHORISED_GRACE_MS;

function door(id: string, over: Partial<AlarmDoorConfig> = {}): AlarmDoorConfig {
  return { id, pulseMs: PULSE_MS, commandTtlMs: TTL_MS, reportsContact: true, alarms: { heldOpenSeconds: 30, forcedOpen: true }, ...over };
}

function setup(doors: AlarmDoorConfig[] = [door('front')]) {
  const clock = new FakeClock();
  const alarms = new DoorAlarms({ doors, logger: silentLogger });
  const changes: AlarmChange[] = [];
  alarms.onChange((c) => changes.push(c));
  /** Moves the clock in ticks of 250 ms, as the part's interval does. */
  const run = (ms: number) => {
    for (let left = ms; left > 0; left -= 250) {
      clock.advance(Math.min(250, left));
      alarms.tick(clock.now());
    }
  };
  const contact = (id: string, position: 'open' | 'closed' | 'unknown') => alarms.contact(id, position, clock.now());
  const kinds = () => changes.map((c) => `${c.change} ${c.alarm.kind}`);
  // The door is first seen closed, as the retained state says at start.
  for (const d of doors) contact(d.id, 'closed');
  return { clock, alarms, changes, run, contact, kinds };
}

describe('DoorAlarms', () => {
  it('raises forced_open when the contact opens with no pulse and no hold, then held_open after the limit', () => {
    const { clock, alarms, contact, run, kinds } = setup();
    const openedAt = clock.now();
    contact('front', 'open');
    expect(alarms.active()).toEqual([
      { id: `front:forced_open:${openedAt}`, door: 'front', kind: 'forced_open', raisedAt: openedAt, acknowledgedAt: null, acknowledgedBy: null, clearedAt: null },
    ]);
    run(29_750);
    expect(kinds()).toEqual(['raised forced_open']);
    run(250);
    expect(kinds()).toEqual(['raised forced_open', 'raised held_open']);
    expect(alarms.active().map((a) => a.raisedAt)).toEqual([openedAt, openedAt + 30_000]);
    run(60_000);
    expect(kinds()).toHaveLength(2); // one held_open per opening, not one per tick
  });

  it('a pulse authorises the opening: a door closed in time raises nothing', () => {
    const { clock, alarms, contact, run, changes } = setup();
    alarms.pulsed('front', clock.now());
    run(PULSE_MS);
    contact('front', 'open');
    run(5000);
    contact('front', 'closed');
    run(60_000);
    expect(changes).toEqual([]);
  });

  it('held_open counts from the end of the pulse window, and a second badge extends it', () => {
    const { clock, alarms, contact, run, kinds } = setup();
    const sent = clock.now();
    alarms.pulsed('front', sent);
    run(1000);
    contact('front', 'open');
    run(WINDOW_MS - 1000 + 20_000);
    alarms.pulsed('front', clock.now()); // badged again while it stands open
    const window2 = clock.now() + WINDOW_MS;
    run(WINDOW_MS + 29_750);
    expect(kinds()).toEqual([]);
    run(250);
    expect(kinds()).toEqual(['raised held_open']);
    expect(alarms.active()[0]!.raisedAt).toBe(window2 + 30_000);
  });

  it('an opening after the pulse window ended is forced', () => {
    const { clock, alarms, contact, kinds } = setup();
    alarms.pulsed('front', clock.now());
    clock.advance(WINDOW_MS + 1);
    contact('front', 'open');
    expect(kinds()).toEqual(['raised forced_open']);
  });

  it('a door held unlocked never alarms while held; held_open counts from the end of the hold', () => {
    const { clock, alarms, contact, run, kinds } = setup();
    alarms.holds(['front'], clock.now());
    contact('front', 'open');
    run(10 * 60_000);
    expect(kinds()).toEqual([]);
    const ended = clock.now();
    alarms.holds([], ended);
    run(29_750);
    expect(kinds()).toEqual([]);
    run(250);
    expect(kinds()).toEqual(['raised held_open']);
    expect(alarms.active()[0]!.raisedAt).toBe(ended + 30_000);
  });

  it('acknowledged before it is cleared: stays listed until the door closes, then leaves', () => {
    const { clock, alarms, contact, changes } = setup();
    contact('front', 'open');
    const id = alarms.active()[0]!.id;
    clock.advance(5000);
    const outcome = alarms.acknowledge(id, 'console:alice', clock.now());
    expect(outcome).toEqual({ status: 'acknowledged', alarm: expect.objectContaining({ id, acknowledgedAt: clock.now(), acknowledgedBy: 'console:alice', clearedAt: null }) });
    expect(alarms.active()).toEqual([expect.objectContaining({ id, acknowledgedBy: 'console:alice' })]);
    expect(alarms.acknowledge(id, 'console:bob', clock.now())).toEqual({ status: 'already', alarm: expect.objectContaining({ acknowledgedBy: 'console:alice' }) });
    clock.advance(1000);
    contact('front', 'closed');
    expect(alarms.active()).toEqual([]);
    expect(changes.map((c) => c.change)).toEqual(['raised', 'acknowledged', 'cleared']);
    expect(changes[2]!.alarm).toMatchObject({ id, clearedAt: clock.now(), acknowledgedBy: 'console:alice' });
    expect(alarms.acknowledge(id, 'console:bob', clock.now())).toEqual({ status: 'not_found' });
  });

  it('cleared before it is acknowledged: stays listed as cleared until acknowledged', () => {
    const { clock, alarms, contact, changes } = setup();
    contact('front', 'open');
    clock.advance(2000);
    contact('front', 'closed');
    const [alarm] = alarms.active();
    expect(alarm).toMatchObject({ kind: 'forced_open', clearedAt: clock.now(), acknowledgedAt: null });
    expect(alarms.acknowledge(alarm!.id, 'api:token', clock.now())).toMatchObject({ status: 'acknowledged' });
    expect(alarms.active()).toEqual([]);
    expect(changes.map((c) => c.change)).toEqual(['raised', 'cleared', 'acknowledged']);
  });

  it('a reload changes the limit of a door that is open now', () => {
    const { clock, alarms, contact, run, kinds } = setup();
    alarms.pulsed('front', clock.now());
    contact('front', 'open');
    run(WINDOW_MS + 5000);
    expect(kinds()).toEqual([]);
    alarms.setDoors([door('front', { alarms: { heldOpenSeconds: 5, forcedOpen: true } })], clock.now());
    alarms.tick(clock.now());
    expect(kinds()).toEqual(['raised held_open']);
  });

  it('a reload can turn forced_open off and keeps what is already listed', () => {
    const { alarms, contact, kinds } = setup();
    contact('front', 'open');
    alarms.setDoors([door('front', { alarms: { heldOpenSeconds: 30, forcedOpen: false } })], 0);
    contact('front', 'closed');
    contact('front', 'open');
    expect(kinds()).toEqual(['raised forced_open', 'cleared forced_open']);
    expect(alarms.active()).toHaveLength(1);
  });

  it('an unknown contact (controller offline) neither raises nor clears', () => {
    const { alarms, contact, run, kinds } = setup();
    contact('front', 'open');
    contact('front', 'unknown');
    run(60_000);
    expect(kinds()).toEqual(['raised forced_open']); // no held_open while the door cannot be seen
    contact('front', 'open'); // back online, still open: the same opening, not a second forced
    expect(kinds()).toEqual(['raised forced_open', 'raised held_open']);
    contact('front', 'unknown');
    expect(alarms.active().every((a) => a.clearedAt === null)).toBe(true);
    contact('front', 'closed');
    expect(alarms.active().every((a) => a.clearedAt !== null)).toBe(true);
  });

  it('after the gateway lost sight of the doors, a door last seen closed and now open is forced', () => {
    const { alarms, contact, kinds } = setup();
    alarms.blind(); // the broker connection dropped: no unlock could be sent meanwhile
    contact('front', 'open'); // the retained state after the reconnect
    expect(kinds()).toEqual(['raised forced_open']);
  });

  it('a door first seen open is not forced (no one saw it open), but is held open after the limit', () => {
    const clock = new FakeClock();
    const alarms = new DoorAlarms({ doors: [door('front')], logger: silentLogger });
    alarms.contact('front', 'open', clock.now());
    expect(alarms.active()).toEqual([]);
    clock.advance(30_000);
    alarms.tick(clock.now());
    expect(alarms.active().map((a) => a.kind)).toEqual(['held_open']);
  });

  it('a door whose driver reports no contact never alarms', () => {
    const { alarms, contact, run, changes } = setup([door('relay-only', { reportsContact: false })]);
    contact('relay-only', 'open');
    run(60_000);
    expect(changes).toEqual([]);
    expect(alarms.active()).toEqual([]);
  });

  it('a door that loses its contact sensor in a reload has its alarms cleared, so they can leave once acknowledged', () => {
    const { clock, alarms, contact, kinds } = setup();
    contact('front', 'open');
    alarms.setDoors([door('front', { reportsContact: false })], clock.now());
    expect(kinds()).toEqual(['raised forced_open', 'cleared forced_open']);
    alarms.acknowledge(alarms.active()[0]!.id, 'console:alice', clock.now());
    expect(alarms.active()).toEqual([]);
  });

  it('a listener that throws does not stop the others or the machine', () => {
    const { alarms, contact, changes } = setup();
    alarms.onChange(() => {
      throw new Error('boom');
    });
    contact('front', 'open');
    expect(changes).toHaveLength(1);
    expect(alarms.active()).toHaveLength(1);
  });
});

describe('doors[].alarms config', () => {
  const base = { site: { id: 'hq' }, dataDir: '/var/lib/lintel', doors: [{ id: 'front' }] };

  it('defaults to a 30 s limit with forced-open on, and refuses a limit out of 1..3600', () => {
    expect(parseConfig(base, 'x.yaml', '/').doors[0]!.alarms).toEqual({ heldOpenSeconds: 30, forcedOpen: true });
    expect(() => parseConfig({ ...base, doors: [{ id: 'front', alarms: { heldOpenSeconds: 0 } }] }, 'x.yaml', '/')).toThrow(/doors\[0\]\.alarms\.heldOpenSeconds/);
    expect(() => parseConfig({ ...base, doors: [{ id: 'front', alarms: { heldOpenSeconds: 3601 } }] }, 'x.yaml', '/')).toThrow(/heldOpenSeconds/);
    expect(() => parseConfig({ ...base, doors: [{ id: 'front', alarms: { heldOpen: 5 } }] }, 'x.yaml', '/')).toThrow(/heldOpen/);
  });

  it('is applied live by a reload, with nothing for the relay or the store to do', () => {
    const running = parseConfig(base, 'x.yaml', '/');
    const plan = planReload(running, parseConfig({ ...base, doors: [{ id: 'front', alarms: { heldOpenSeconds: 90, forcedOpen: false } }] }, 'x.yaml', '/'));
    expect(plan).toMatchObject({ live: ['doors.front.alarms.forcedOpen', 'doors.front.alarms.heldOpenSeconds'], restart: [], problems: [], doorsChanged: false });
    expect(plan.config.doors[0]!.alarms).toEqual({ heldOpenSeconds: 90, forcedOpen: false });
  });
});
