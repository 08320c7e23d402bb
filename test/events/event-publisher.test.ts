import { describe, expect, it } from 'vitest';
import type { AlarmChange, AlarmSource, DoorAlarm } from '../../src/doors/alarm-types.js';
import type { StateEvent } from '../../src/doors/door-states.js';
import { eventTopics } from '../../src/events/event-payloads.js';
import { EventPublisher, type EventSources } from '../../src/events/event-publisher.js';
import type { DecisionListener } from '../../src/pipeline/decision-recorder.js';
import type { DecisionEvent } from '../../src/pipeline/recent-decisions.js';
import { violations } from './schemas.js';

/* The publisher without a broker: what each source becomes, and that nothing it does can throw into them. */

class Sources implements EventSources {
  readonly decisions: DecisionListener[] = [];
  readonly states = new Set<(e: StateEvent) => void>();
  onDecision(l: DecisionListener): void { this.decisions.push(l); }
  onState(l: (e: StateEvent) => void): () => void { this.states.add(l); return () => void this.states.delete(l); }
  decide(e: DecisionEvent, personId: number | null): void { for (const l of this.decisions) l(e, personId); }
  state(e: StateEvent): void { for (const l of this.states) l(e); }
}

class Alarms implements AlarmSource {
  readonly listeners = new Set<(c: AlarmChange) => void>();
  active(): DoorAlarm[] { return []; }
  onChange(l: (c: AlarmChange) => void): () => void { this.listeners.add(l); return () => void this.listeners.delete(l); }
  acknowledge(): { status: 'not_found' } { return { status: 'not_found' }; }
  emit(c: AlarmChange): void { for (const l of this.listeners) l(c); }
}

const AT = Date.parse('2026-12-03T09:41:07.112Z');
const qrDecision: DecisionEvent = { at: AT, readerId: 'gate', doorId: 'front', credential: 'LT…9f3a', kind: 'member-qr', result: 'denied', reason: 'token_expired', relay: 'none' };

function setup(opts: { throwing?: boolean; ha?: boolean } = {}) {
  const sent: Array<{ topic: string; payload: string; retain: boolean }> = [];
  const failed: string[] = [];
  const publisher = new EventPublisher({
    topics: eventTopics('lintel/hq'),
    sink: {
      publish: (topic, payload, retain = false) => {
        if (opts.throwing) throw new Error('socket gone');
        sent.push({ topic, payload, retain });
        return true;
      },
    },
    haReaderEvents: () => opts.ha ?? false,
    failed: (task) => failed.push(task),
  });
  const sources = new Sources();
  const alarms = new Alarms();
  publisher.attach(sources, alarms);
  return { publisher, sources, alarms, sent, failed };
}

describe('event publisher', () => {
  it('publishes a decision without the person id it is handed, valid by its schema', () => {
    const { sources, sent } = setup({ ha: true });
    sources.decide(qrDecision, 4711);
    expect(sent.map((s) => s.topic)).toEqual(['lintel/hq/events/decision', 'lintel/hq/ha/reader/gate/event']);
    const body = JSON.parse(sent[0]!.payload) as Record<string, unknown>;
    expect(violations('event-decision', body)).toEqual([]);
    expect(violations('ha-reader-event', JSON.parse(sent[1]!.payload))).toEqual([]);
    expect(body.at).toBe('2026-12-03T09:41:07.112Z');
    expect(sent.map((s) => s.payload).join()).not.toContain('4711');
  });

  it('a door state is an event and, retained, the door\'s state; a removed door\'s is cleared once', () => {
    const { publisher, sources, sent } = setup();
    sources.state({ doorId: 'side', state: { online: false, relay: 'unknown', contact: 'unknown', at: AT } });
    expect(sent.map((s) => [s.topic, s.retain])).toEqual([['lintel/hq/events/door/side', false], ['lintel/hq/state/door/side', true]]);
    expect(violations('event-door', JSON.parse(sent[0]!.payload))).toEqual([]);
    publisher.forgetDoor('side');
    publisher.forgetDoor('side');
    publisher.forgetDoor('never-seen');
    expect(sent.slice(2)).toEqual([{ topic: 'lintel/hq/state/door/side', payload: '', retain: true }]);
  });

  it('publishes each alarm change with its own time, valid by its schema', () => {
    const { alarms, sent } = setup();
    const alarm: DoorAlarm = { id: 'front:held_open:1', door: 'front', kind: 'held_open', raisedAt: AT, acknowledgedAt: AT + 1000, acknowledgedBy: 'mqtt:nodered', clearedAt: AT + 5000 };
    alarms.emit({ change: 'cleared', alarm });
    const body = JSON.parse(sent[0]!.payload) as Record<string, unknown>;
    expect(violations('event-alarm', body)).toEqual([]);
    expect(body).toMatchObject({ change: 'cleared', at: '2026-12-03T09:41:12.112Z' });
  });

  it('a sink that throws is counted by task and never reaches the decision, state or alarm source', () => {
    const { sources, alarms, failed } = setup({ throwing: true });
    expect(() => sources.decide(qrDecision, null)).not.toThrow();
    expect(() => sources.state({ doorId: 'front', state: { online: true, relay: 'locked', contact: 'closed', at: AT } })).not.toThrow();
    expect(() => alarms.emit({ change: 'raised', alarm: { id: 'a', door: 'front', kind: 'forced_open', raisedAt: AT, acknowledgedAt: null, acknowledgedBy: null, clearedAt: null } })).not.toThrow();
    expect(failed).toEqual(['event-decision', 'event-door', 'event-alarm']);
  });

  it('after detach nothing is published, though the recorder keeps its listener', () => {
    const { publisher, sources, alarms, sent } = setup();
    publisher.detach();
    sources.decide(qrDecision, null);
    expect(sources.states.size).toBe(0);
    expect(alarms.listeners.size).toBe(0);
    expect(sent).toEqual([]);
  });
});
