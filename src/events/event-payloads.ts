import type { AlarmChange, DoorAlarm } from '../doors/alarm-types.js';
import type { StateEvent } from '../doors/door-states.js';
import { ProtocolError } from '../doors/protocol.js';
import type { DecisionEvent } from '../pipeline/recent-decisions.js';

/*
 * What the gateway tells the site's other tools (Home Assistant, Node-RED, a SIEM) over MQTT:
 * the payloads and topics of firmware-protocol/events.md, whose JSON Schemas
 * (firmware-protocol/schemas/event-*.schema.json) a broker test holds these to. Pure: no I/O.
 * Nothing here carries a local row id: a person is not named at all, a card only masked (the
 * recorder's events are masked before any listener sees them).
 */

/** Bumped when a field changes meaning or goes away; adding a field does not bump it. */
export const EVENT_SCHEMA_VERSION = 1;

const SEGMENT = /^[^/#+]+$/;

function segment(kind: string, value: string): string {
  if (!SEGMENT.test(value)) throw new ProtocolError('semantic', `${kind} "${value}" is not a valid topic segment`);
  return value;
}

export interface EventTopics {
  readonly decision: string;
  door(doorId: string): string;
  /** Retained: the door's last known state, for a subscriber that comes late. */
  doorState(doorId: string): string;
  readonly alarm: string;
  /** The operator commands (command-bridge.ts), zigbee2mqtt style. */
  request(action: string): string;
  response(action: string): string;
  readonly allRequests: string;
  /** Home Assistant's lock command topic for a door (ha-discovery.ts), handled by the command bridge. */
  haLockSet(doorId: string): string;
  readonly allHaLockSets: string;
  /** One topic per reader for Home Assistant's `event` entity: it has no filter of its own. */
  haReaderEvent(readerId: string): string;
  /** The inverse of request() and haLockSet(); null for any other topic. */
  parse(topic: string): { kind: 'request'; action: string } | { kind: 'ha-lock'; doorId: string } | null;
}

/** Under the relay's base (protocol.ts topics): `<prefix>/<site>/events/...`, `.../bridge/...`. */
export function eventTopics(base: string): EventTopics {
  const requestPrefix = `${base}/bridge/request/`;
  const haLockPrefix = `${base}/ha/door/`;
  return {
    decision: `${base}/events/decision`,
    door: (d) => `${base}/events/door/${segment('door id', d)}`,
    doorState: (d) => `${base}/state/door/${segment('door id', d)}`,
    alarm: `${base}/events/alarm`,
    request: (a) => `${requestPrefix}${segment('action', a)}`,
    response: (a) => `${base}/bridge/response/${segment('action', a)}`,
    allRequests: `${requestPrefix}+`,
    haLockSet: (d) => `${haLockPrefix}${segment('door id', d)}/set`,
    allHaLockSets: `${haLockPrefix}+/set`,
    haReaderEvent: (r) => `${base}/ha/reader/${segment('reader id', r)}/event`,
    parse(topic) {
      if (topic.startsWith(requestPrefix)) {
        const action = topic.slice(requestPrefix.length);
        return SEGMENT.test(action) ? { kind: 'request', action } : null;
      }
      if (topic.startsWith(haLockPrefix) && topic.endsWith('/set')) {
        const doorId = topic.slice(haLockPrefix.length, -'/set'.length);
        return SEGMENT.test(doorId) ? { kind: 'ha-lock', doorId } : null;
      }
      return null;
    },
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** `events/decision`: the event as the recorder passed it on, less nothing but the person (never passed here). */
export function decisionPayload(e: DecisionEvent): string {
  return JSON.stringify({
    v: EVENT_SCHEMA_VERSION,
    type: 'decision',
    at: iso(e.at),
    reader: e.readerId,
    door: e.doorId,
    credential: e.credential,
    kind: e.kind,
    result: e.result,
    reason: e.reason,
    relay: e.relay,
  });
}

/** Home Assistant's `event` entity wants `event_type`; the rest become the event's attributes. */
export function haReaderEventPayload(e: DecisionEvent): string {
  return JSON.stringify({ event_type: e.result, at: iso(e.at), door: e.doorId, credential: e.credential, kind: e.kind, reason: e.reason });
}

/** `events/door/<door>` and, retained, `state/door/<door>`. */
export function doorPayload(e: StateEvent): string {
  const { online, relay, contact, at, fw } = e.state;
  const body: Record<string, unknown> = { v: EVENT_SCHEMA_VERSION, type: 'door', door: e.doorId, online, relay, contact, at: iso(at) };
  if (fw !== undefined) body.fw = fw;
  return JSON.stringify(body);
}

function alarmBody(a: DoorAlarm): Record<string, unknown> {
  return {
    id: a.id,
    door: a.door,
    kind: a.kind,
    raisedAt: iso(a.raisedAt),
    acknowledgedAt: isoOrNull(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    clearedAt: isoOrNull(a.clearedAt),
  };
}

/** `events/alarm`: `at` is when it happened (raised, acknowledged or cleared). */
export function alarmPayload(c: AlarmChange): string {
  const a = c.alarm;
  const at = c.change === 'raised' ? a.raisedAt : c.change === 'acknowledged' ? (a.acknowledgedAt ?? a.raisedAt) : (a.clearedAt ?? a.raisedAt);
  return JSON.stringify({ v: EVENT_SCHEMA_VERSION, type: 'alarm', change: c.change, at: iso(at), alarm: alarmBody(a) });
}
