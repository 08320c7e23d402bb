import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { planReload } from '../../src/config/reload-plan.js';
import { discoveryConfigs, HaDiscovery, haId, lockAction } from '../../src/events/ha-discovery.js';
import { schemaNames, violations } from './schemas.js';

/* Home Assistant discovery payloads, without a broker: what is announced, what a reload clears. */

const raw = {
  site: { id: 'hq', name: 'Head office' },
  mqtt: { url: 'mqtt://127.0.0.1:1883', commands: { enabled: true } },
  homeAssistant: { discovery: true },
  doors: [{ id: 'front', name: 'Front entrance' }, { id: 'lab.2' }],
  readers: [{ id: 'desk', kind: 'stdin', door: 'front' }],
};

describe('Home Assistant discovery', () => {
  it('announces a lock per door, a contact per door that reports one, an event per reader: each valid by its schema', () => {
    const cfg = parseConfig(raw);
    const configs = discoveryConfigs(cfg, new Set(['front']));
    expect([...configs.keys()].sort()).toEqual([
      'homeassistant/binary_sensor/lintel_hq/door_front_contact/config',
      'homeassistant/event/lintel_hq/reader_desk/config',
      'homeassistant/lock/lintel_hq/door_front/config',
      'homeassistant/lock/lintel_hq/door_lab_2e2/config',
    ]);
    const schemaOf = (topic: string) => (topic.includes('/lock/') ? 'ha-lock-config' : topic.includes('/binary_sensor/') ? 'ha-binary-sensor-config' : 'ha-event-config');
    for (const [topic, payload] of configs) expect(violations(schemaOf(topic), JSON.parse(payload)), topic).toEqual([]);
    const lock = JSON.parse(configs.get('homeassistant/lock/lintel_hq/door_front/config')!) as Record<string, unknown>;
    expect(lock).toMatchObject({
      name: 'Front entrance',
      command_topic: 'lintel/hq/ha/door/front/set',
      payload_open: 'OPEN',
      state_topic: 'lintel/hq/state/door/front',
      availability_mode: 'all',
      device: { identifiers: ['lintel_hq'], name: 'Head office', manufacturer: 'lintel' },
    });
    expect((lock.availability as Array<{ topic: string }>)[0]!.topic).toBe('lintel/hq/gateway/status'); // the relay's last-will topic
    const contact = JSON.parse(configs.get('homeassistant/binary_sensor/lintel_hq/door_front_contact/config')!) as Record<string, unknown>;
    expect(contact).toMatchObject({ device_class: 'door', state_topic: 'lintel/hq/state/door/front' });
    const event = JSON.parse(configs.get('homeassistant/event/lintel_hq/reader_desk/config')!) as Record<string, unknown>;
    expect(event).toMatchObject({ event_types: ['granted', 'denied'], state_topic: 'lintel/hq/ha/reader/desk/event' });
  });

  it('a schema of ours refuses a field HA does not document (the schemas are closed)', () => {
    const [, payload] = [...discoveryConfigs(parseConfig(raw), new Set())][0]!;
    expect(violations('ha-lock-config', { ...(JSON.parse(payload) as object), payload_explode: 'x' })).not.toEqual([]);
    expect(schemaNames()).toEqual(expect.arrayContaining(['ha-lock-config', 'ha-binary-sensor-config', 'ha-event-config']));
  });

  it('escapes ids one to one into HA\'s alphabet', () => {
    const ids = ['a.b', 'a_b', 'a_2eb', 'a-b', 'A'];
    const escaped = ids.map(haId);
    expect(new Set(escaped).size).toBe(ids.length);
    for (const e of escaped) expect(e).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('maps HA\'s lock payloads to the operator actions: OPEN and UNLOCK pulse, LOCK ends a hold', () => {
    expect(lockAction('front', 'OPEN')).toEqual({ action: 'door.pulse', door: 'front' });
    expect(lockAction('front', 'UNLOCK')).toEqual({ action: 'door.pulse', door: 'front' });
    expect(lockAction('front', 'LOCK')).toEqual({ action: 'door.release', door: 'front' });
    expect(lockAction('front', '{"door":"x"}')).toBeNull();
  });

  it('a reload that removes a door clears its retained configs; one the broker missed is cleared on the next sync', () => {
    const sent: Array<[string, string]> = [];
    let up = true;
    const ha = new HaDiscovery({ publish: (topic, payload) => (up ? (sent.push([topic, payload]), true) : false) });
    const before = parseConfig(raw);
    ha.sync(before, new Set(['front', 'lab.2']), true);
    expect(sent.filter(([, p]) => p !== '')).toHaveLength(5);
    sent.length = 0;
    const after = planReload(before, parseConfig({ ...raw, doors: [raw.doors[0]] })).config;
    up = false;
    ha.sync(after, new Set(['front']), false);
    up = true;
    ha.sync(after, new Set(['front']), false);
    expect(sent.sort()).toEqual([
      ['homeassistant/binary_sensor/lintel_hq/door_lab_2e2_contact/config', ''],
      ['homeassistant/lock/lintel_hq/door_lab_2e2/config', ''],
    ]);
  });

  it('classifies its config fields as restart-needed (the events part subscribed and announced with them)', () => {
    const plan = planReload(parseConfig(raw), parseConfig({ ...raw, homeAssistant: { discovery: false, prefix: 'ha' }, mqtt: { ...raw.mqtt, commands: { enabled: false, role: 'viewer' } } }));
    expect(plan.restart).toEqual(['homeAssistant.discovery', 'homeAssistant.prefix', 'mqtt.commands.enabled', 'mqtt.commands.role']);
    expect(plan.live).toEqual([]);
  });
});
