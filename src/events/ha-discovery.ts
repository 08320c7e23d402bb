import type { Config } from '../config/schema.js';
import type { Action } from '../console/actions.js';
import { topics } from '../doors/protocol.js';
import { VERSION } from '../version.js';
import type { EventSink } from './event-publisher.js';
import { eventTopics } from './event-payloads.js';

/*
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
 * retained config payloads that make each door a `lock` (open = one pulse, run through the
 * command bridge and OperatorActions like any other operator action), its contact sensor a
 * `binary_sensor` where the door's driver reports one, and each reader an `event` entity,
 * all on one device, the gateway. Their availability is the gateway's retained status (the
 * relay's last-will topic) and, for a door, its controller's online flag. The field names are
 * HA's documented ones; firmware-protocol/schemas/ha-*.schema.json hold them, and a broker test
 * holds the payloads to those.
 */

/** What HA sends on the lock's command topic, and what each does here. LOCK ends an operator hold. */
export const HA_LOCK_PAYLOADS = { open: 'OPEN', unlock: 'UNLOCK', lock: 'LOCK' } as const;

/** HA's discovery ids allow [a-zA-Z0-9_-]: anything else (a "." in a door id) is escaped, one to one. */
export function haId(value: string): string {
  return value.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}

/** The action a lock command stands for; null for a payload HA would not send. */
export function lockAction(doorId: string, payload: string): Action | null {
  if (payload === HA_LOCK_PAYLOADS.open || payload === HA_LOCK_PAYLOADS.unlock) return { action: 'door.pulse', door: doorId };
  if (payload === HA_LOCK_PAYLOADS.lock) return { action: 'door.release', door: doorId };
  return null;
}

const RELAY_TEMPLATE = "{% if value_json.relay == 'locked' %}LOCKED{% elif value_json.relay == 'unlocked' %}UNLOCKED{% else %}None{% endif %}";
const CONTACT_TEMPLATE = "{% if value_json.contact == 'open' %}ON{% elif value_json.contact == 'closed' %}OFF{% else %}None{% endif %}";
const DOOR_ONLINE_TEMPLATE = "{{ 'online' if value_json.online else 'offline' }}";

/** Topic → retained config payload, for a config and the doors whose driver reports a contact. */
export function discoveryConfigs(cfg: Config, contactDoors: ReadonlySet<string>): Map<string, string> {
  const base = topics(cfg.mqtt.topicPrefix, cfg.site.id);
  const ev = eventTopics(base.base);
  const node = `lintel_${haId(cfg.site.id)}`;
  const prefix = cfg.homeAssistant.prefix;
  const device = { identifiers: [node], name: cfg.site.name ?? `lintel ${cfg.site.id}`, manufacturer: 'lintel', model: 'Edge access gateway', sw_version: VERSION };
  const origin = { name: 'lintel', sw_version: VERSION };
  const gateway = { topic: base.gatewayStatus, value_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' };
  const out = new Map<string, string>();
  /** `objectId` is already in HA's alphabet: fixed words and haId()s of ours. */
  const put = (component: string, id: string, body: Record<string, unknown>) => {
    out.set(`${prefix}/${component}/${node}/${id}/config`, JSON.stringify({ ...body, unique_id: `${node}_${id}`, device, origin }));
  };
  for (const door of cfg.doors) {
    const name = door.name ?? door.id;
    const doorOnline = { topic: ev.doorState(door.id), value_template: DOOR_ONLINE_TEMPLATE, payload_available: 'online', payload_not_available: 'offline' };
    put('lock', `door_${haId(door.id)}`, {
      name,
      command_topic: ev.haLockSet(door.id),
      payload_open: HA_LOCK_PAYLOADS.open,
      payload_unlock: HA_LOCK_PAYLOADS.unlock,
      payload_lock: HA_LOCK_PAYLOADS.lock,
      state_topic: ev.doorState(door.id),
      value_template: RELAY_TEMPLATE,
      state_locked: 'LOCKED',
      state_unlocked: 'UNLOCKED',
      optimistic: false,
      qos: 0,
      retain: false,
      availability: [gateway, doorOnline],
      availability_mode: 'all',
    });
    if (!contactDoors.has(door.id)) continue;
    put('binary_sensor', `door_${haId(door.id)}_contact`, {
      name: `${name} contact`,
      device_class: 'door',
      state_topic: ev.doorState(door.id),
      value_template: CONTACT_TEMPLATE,
      payload_on: 'ON',
      payload_off: 'OFF',
      availability: [gateway, doorOnline],
      availability_mode: 'all',
    });
  }
  for (const reader of cfg.readers) {
    put('event', `reader_${haId(reader.id)}`, {
      name: `Reader ${reader.id}`,
      state_topic: ev.haReaderEvent(reader.id),
      event_types: ['granted', 'denied'],
      availability: [gateway],
    });
  }
  return out;
}

/**
 * Keeps HA's retained configs in step with the running config: all of them on every (re)connect
 * (a broker without persistence forgot them), and on a reload the ones that went away cleared
 * with an empty retained payload, which is how HA is told an entity is gone.
 */
export class HaDiscovery {
  private published = new Map<string, string>();
  /** Clears that could not go out (broker away): retried on the next sync, so no ghost entity stays. */
  private readonly unclear = new Set<string>();

  constructor(private readonly sink: EventSink) {}

  /** Publishes every config of `cfg` (`all`) or those that changed; clears those `cfg` no longer has. */
  sync(cfg: Config, contactDoors: ReadonlySet<string>, all: boolean): void {
    const next = discoveryConfigs(cfg, contactDoors);
    for (const topic of this.published.keys()) if (!next.has(topic)) this.unclear.add(topic);
    for (const topic of [...this.unclear]) {
      if (next.has(topic) || this.sink.publish(topic, '', true)) this.unclear.delete(topic);
    }
    const sent = new Map<string, string>();
    for (const [topic, payload] of next) {
      const unchanged = this.published.get(topic) === payload;
      if ((all || !unchanged) && !this.sink.publish(topic, payload, true)) continue;
      sent.set(topic, payload);
    }
    this.published = sent;
  }
}
