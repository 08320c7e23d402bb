import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { IPublishPacket } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Action, ActionResult, OperatorActions } from '../../src/console/actions.js';
import type { Actor } from '../../src/console/operator.js';
import type { AlarmChange, AlarmSource, DoorAlarm } from '../../src/doors/alarm-types.js';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { Gateway } from '../../src/gateway.js';
import { importCards } from '../../src/store/card-import.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/tmp.js';
import { Observer, waitFor } from '../doors/fixtures.js';
import { violations } from './schemas.js';

/*
 * The events part in a real gateway on a real Mosquitto: every payload read off the broker is
 * held to its schema in firmware-protocol/schemas/. The operator actions and the alarm source
 * are small recording implementations here (the console's real ones are wired by the gateway's
 * owner); a pulse they are asked for goes through the real relay to a simulated door.
 */

/** Records each call; a pulse is a real one through the relay. */
class RecordingActions implements OperatorActions {
  readonly calls: Array<{ actor: Actor; action: Action }> = [];
  private readonly listeners = new Set<() => void>();
  gateway: Gateway | null = null;

  run(actor: Actor, action: Action): Promise<ActionResult> {
    this.calls.push({ actor, action });
    for (const fn of [...this.listeners]) fn();
    if (action.action !== 'door.pulse') return Promise.resolve({ ok: false, code: 'conflict', message: 'not held', status: 409 });
    const outcome = this.gateway!.relay.pulse(action.door);
    return Promise.resolve({ ok: true, action: action.action, message: `pulse ${outcome.status}`, detail: { door: action.door } });
  }

  until(n: number): Promise<true> {
    return waitFor(`${n} operator calls`, (fn) => { this.listeners.add(fn); return () => void this.listeners.delete(fn); }, () => (this.calls.length >= n ? true : undefined));
  }
}

class ManualAlarms implements AlarmSource {
  private readonly listeners = new Set<(c: AlarmChange) => void>();
  active(): DoorAlarm[] { return []; }
  onChange(fn: (c: AlarmChange) => void): () => void { this.listeners.add(fn); return () => void this.listeners.delete(fn); }
  acknowledge(): { status: 'not_found' } { return { status: 'not_found' }; }
  emit(c: AlarmChange): void { for (const fn of this.listeners) fn(c); }
}

const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;
const json = (p: IPublishPacket) => JSON.parse(p.payload.toString()) as Record<string, unknown>;

let broker: TestBroker;
let siteCounter = 0;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.stop(); });
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

async function setup(before: (base: string, observer: Observer) => Promise<void> = async () => {}) {
  const site = `ev${++siteCounter}`;
  const v: 4 | 5 = broker.protocolVersions.includes(5) ? 5 : 4;
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const raw = {
    site: { id: site, name: 'Test site' },
    dataDir: join(dir, 'data'),
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { url: broker.url, protocolVersion: v, commands: { enabled: true } },
    homeAssistant: { discovery: true },
    doors: [{ id: 'front', name: 'Front entrance' }, { id: 'lab' }],
    readers: [reader],
  };
  const observer = await Observer.connect(broker.url, v);
  cleanups.push(() => observer.close());
  await observer.subscribe(`lintel/${site}/#`, true);
  await observer.subscribe(`homeassistant/+/lintel_${site}/#`, true);
  const sim = new DoorSimulator({ url: broker.url, prefix: 'lintel', siteId: site, doorId: 'front', protocolVersion: v, fw: '1.2.3' });
  await sim.start();
  cleanups.push(() => sim.stop());
  await before(`lintel/${site}`, observer);
  const actions = new RecordingActions();
  const alarms = new ManualAlarms();
  const gateway = new Gateway({ config: parseConfig(raw), logger: silentLogger, stdin: new PassThrough() });
  actions.gateway = gateway;
  gateway.events.setOperatorActions(actions);
  gateway.events.setAlarms(alarms);
  await gateway.start();
  cleanups.push(() => gateway.stop());
  const base = `lintel/${site}`;
  const conforms = (schema: string, p: IPublishPacket) => expect(violations(schema, json(p)), p.topic).toEqual([]);
  return { site, base, raw, v, observer, sim, actions, alarms, gateway, conforms };
}

describe('MQTT events on a real broker', () => {
  it('publishes decisions, door states and alarms as their schemas say, with the card masked and no person id', async () => {
    const { base, observer, gateway, sim, alarms, conforms } = await setup();
    importCards(gateway.store, 'email,card,doors\nana@example.com,7340861,front\n', Date.now());
    // The door said its state before the events link was up: it is there retained, as the gateway knows it.
    const retained = await observer.first('retained door state', (p) => p.topic === `${base}/state/door/front` && p.payload.length > 0);
    expect(retained.retain).toBe(true);
    conforms('event-door', retained);
    expect(json(retained)).toMatchObject({ v: 1, type: 'door', door: 'front', online: true, relay: 'locked', contact: 'closed', fw: '1.2.3' });

    gateway.pipeline.onLine(reader, '7340861');
    const decision = await observer.next('decision', (p) => p.topic === `${base}/events/decision`);
    conforms('event-decision', decision);
    expect(decision.retain).toBe(false);
    expect(json(decision)).toMatchObject({ v: 1, type: 'decision', reader: 'desk', door: 'front', kind: 'card', credential: '*****61' });
    const text = decision.payload.toString();
    expect(text).not.toContain('7340861');
    expect(text).not.toMatch(/person/i);
    const haEvent = await observer.first('HA reader event', (p) => p.topic === `${base}/ha/reader/desk/event`);
    conforms('ha-reader-event', haEvent);
    expect(json(haEvent).event_type).toBe(json(decision).result);

    sim.simulateOpen();
    const opened = await observer.first('contact open', (p) => p.topic === `${base}/events/door/front` && json(p).contact === 'open');
    conforms('event-door', opened);
    expect(opened.retain).toBe(false);
    const openState = await observer.first('retained open state', (p) => p.topic === `${base}/state/door/front` && json(p).contact === 'open');
    expect(openState.payload.toString()).toBe(opened.payload.toString());

    const alarm: DoorAlarm = { id: 'front:forced_open:1', door: 'front', kind: 'forced_open', raisedAt: Date.now(), acknowledgedAt: null, acknowledgedBy: null, clearedAt: null };
    alarms.emit({ change: 'raised', alarm });
    alarms.emit({ change: 'acknowledged', alarm: { ...alarm, acknowledgedAt: Date.now(), acknowledgedBy: 'console:alice' } });
    const ack = await observer.first('alarm acknowledged', (p) => p.topic === `${base}/events/alarm` && json(p).change === 'acknowledged');
    conforms('event-alarm', ack);
    const raised = observer.on(`${base}/events/alarm`).find((p) => json(p).change === 'raised')!;
    conforms('event-alarm', raised);
  }, 30_000);

  it('a late subscriber finds the retained door state and the Home Assistant configs, each valid by its schema', async () => {
    const { site, base, v } = await setup();
    const late = await Observer.connect(broker.url, v);
    cleanups.push(() => late.close());
    await late.subscribe(`${base}/state/door/+`);
    await late.subscribe(`homeassistant/+/lintel_${site}/+/config`);
    await late.subscribe(`${base}/gateway/status`);
    const state = await late.first('retained state', (p) => p.topic === `${base}/state/door/front`);
    expect(state.retain).toBe(true);
    // Both doors' driver (lintel) reports a contact: the lab's is announced before its device said anything.
    const configs = ['lock/lintel_SITE/door_front', 'lock/lintel_SITE/door_lab', 'binary_sensor/lintel_SITE/door_front_contact', 'binary_sensor/lintel_SITE/door_lab_contact', 'event/lintel_SITE/reader_desk'];
    const schemaOf: Record<string, string> = { lock: 'ha-lock-config', binary_sensor: 'ha-binary-sensor-config', event: 'ha-event-config' };
    for (const c of configs) {
      const topic = `homeassistant/${c.replace('SITE', site)}/config`;
      const p = await late.first(topic, (x) => x.topic === topic && x.payload.length > 0);
      expect(p.retain).toBe(true);
      expect(violations(schemaOf[c.split('/')[0]!]!, json(p)), topic).toEqual([]);
    }
    const status = await late.first('gateway status', (p) => p.topic === `${base}/gateway/status`);
    expect(json(status).state).toBe('online'); // what the entities' availability reads
  }, 30_000);

  it('runs operator commands through OperatorActions as the configured actor and answers each; a bad one does nothing', async () => {
    const { base, observer, actions, sim } = await setup();
    const publish = (topic: string, payload: string) => observer.client.publishAsync(topic, payload, { qos: 1 });
    const answer = (action: string, transaction: string) => observer.first(`response ${transaction}`, (p) => p.topic === `${base}/bridge/response/${action}` && json(p).transaction === transaction);

    await publish(`${base}/bridge/request/door.pulse`, '{"door":"front","transaction":"t1"}');
    const ok = await answer('door.pulse', 't1');
    expect(violations('bridge-response', json(ok))).toEqual([]);
    expect(json(ok)).toMatchObject({ status: 'ok', data: { message: 'pulse sent', door: 'front' } });
    expect(actions.calls[0]).toEqual({ actor: { name: 'mqtt', role: 'operator', via: 'mqtt' }, action: { action: 'door.pulse', door: 'front' } });
    await observer.first('door ack', (p) => p.topic === `${base}/doors/front/ack` && json(p).result === 'executed');
    expect(sim.state().executed).toBe(1);

    await publish(`${base}/bridge/request/door.pulse`, '{"door":');
    await publish(`${base}/bridge/request/door.pulse`, '{"door":"front","force":true,"transaction":"t2"}');
    await publish(`${base}/bridge/request/door.explode`, '{"transaction":"t3"}');
    await publish(`${base}/bridge/request/lockdown.set`, '{"on":true,"transaction":"t4"}');
    for (const [action, t, code] of [['door.pulse', 't2', 'invalid'], ['door.explode', 't3', 'unknown_action'], ['lockdown.set', 't4', 'conflict']] as const) {
      const p = await answer(action, t);
      expect(json(p)).toMatchObject({ status: 'error', error: { code } });
      expect(violations('bridge-response', json(p))).toEqual([]);
    }
    const malformed = observer.on(`${base}/bridge/response/door.pulse`).filter((p) => json(p).transaction === undefined);
    expect(malformed.map(json)).toEqual([{ status: 'error', error: { code: 'invalid', message: 'payload is not JSON' } }]);
    expect(actions.calls.map((c) => c.action.action)).toEqual(['door.pulse', 'lockdown.set']);
  }, 30_000);

  it('does not run a retained request the broker hands it on subscribing (it would run again on every reconnect)', async () => {
    const { base, observer, actions } = await setup(async (b, o) => {
      await o.client.publishAsync(`${b}/bridge/request/door.pulse`, '{"door":"front","transaction":"stale"}', { qos: 1, retain: true });
    });
    cleanups.push(async () => void (await observer.client.publishAsync(`${base}/bridge/request/door.pulse`, '', { qos: 1, retain: true })));
    await observer.client.publishAsync(`${base}/bridge/request/door.pulse`, '{"door":"front","transaction":"fresh"}', { qos: 1 });
    await observer.first('fresh answer', (p) => p.topic === `${base}/bridge/response/door.pulse` && json(p).transaction === 'fresh');
    expect(observer.on(`${base}/bridge/response/door.pulse`).map((p) => json(p).transaction)).toEqual(['fresh']);
    expect(actions.calls).toHaveLength(1);
  }, 30_000);

  it('opens a door from Home Assistant\'s lock command through the same actions', async () => {
    const { base, observer, actions } = await setup();
    await observer.client.publishAsync(`${base}/ha/door/front/set`, 'OPEN', { qos: 1 });
    await actions.until(1);
    expect(actions.calls[0]).toEqual({ actor: { name: 'mqtt', role: 'operator', via: 'mqtt' }, action: { action: 'door.pulse', door: 'front' } });
    await observer.client.publishAsync(`${base}/ha/door/front/set`, 'LOCK', { qos: 1 });
    await actions.until(2);
    expect(actions.calls[1]!.action).toEqual({ action: 'door.release', door: 'front' });
  }, 30_000);

  it('a reload that removes a door clears its retained Home Assistant configs', async () => {
    const { site, raw, observer, gateway } = await setup();
    const lockTopic = `homeassistant/lock/lintel_${site}/door_lab/config`;
    await observer.first('lab lock config', (p) => p.topic === lockTopic && p.payload.length > 0);
    await gateway.reload(parseConfig({ ...raw, doors: [raw.doors[0]] }));
    const cleared = await observer.next('lab config cleared', (p) => p.topic === lockTopic && p.payload.length === 0);
    expect(cleared.retain).toBe(true);
    const contactTopic = `homeassistant/binary_sensor/lintel_${site}/door_lab_contact/config`;
    await observer.first('lab contact cleared', (p) => p.topic === contactTopic && p.payload.length === 0);
    // The front door stays: nothing cleared it.
    expect(observer.packets.some((p) => p.topic === `homeassistant/lock/lintel_${site}/door_front/config` && p.payload.length === 0)).toBe(false);
  }, 30_000);
});
