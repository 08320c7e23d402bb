import type { AlarmSource } from '../doors/alarm-types.js';
import type { StateEvent } from '../doors/door-states.js';
import type { DecisionListener } from '../pipeline/decision-recorder.js';
import type { DecisionEvent } from '../pipeline/recent-decisions.js';
import { alarmPayload, decisionPayload, doorPayload, haReaderEventPayload, type EventTopics } from './event-payloads.js';

/** What the publisher needs of the link: a publish that never waits and never queues (events-link.ts). */
export interface EventSink {
  publish(topic: string, payload: string, retain?: boolean): boolean;
}

export interface EventSources {
  /** DecisionRecorder.onDecision (through BadgePipeline): called after the unlock went out. */
  onDecision(listener: DecisionListener): void;
  /** DoorRelay.onState. */
  onState(listener: (e: StateEvent) => void): () => void;
}

export interface EventPublisherOptions {
  topics: EventTopics;
  sink: EventSink;
  /** Whether Home Assistant discovery is on: each decision is also put on its reader's topic. */
  haReaderEvents: () => boolean;
  /** A listener that threw: logged and counted by the caller, never past here. */
  failed: (task: string, err: unknown) => void;
}

/**
 * Every decision, door state change and alarm change, published as it happens
 * (firmware-protocol/events.md). Listeners run on the badge path's tail (the recorder calls
 * them after the unlock), so each does one JSON.stringify and one non-blocking publish, and
 * catches everything: an event is worth less than the next badge read.
 */
export class EventPublisher {
  private readonly unsubscribes: Array<() => void> = [];
  private attached = false;
  /** The door states last published retained, so a reload can clear a removed door's. */
  private readonly retainedDoors = new Set<string>();

  constructor(private readonly opts: EventPublisherOptions) {}

  /**
   * Subscribes to the sources once. The recorder has no unsubscribe: its listener stays for the
   * process's life, and detach() turns it into a no-op instead.
   */
  attach(sources: EventSources, alarms: AlarmSource | null): void {
    if (this.attached) return;
    this.attached = true;
    sources.onDecision((e) => this.guard('event-decision', () => this.decision(e)));
    this.unsubscribes.push(sources.onState((e) => this.guard('event-door', () => this.door(e))));
    if (alarms) this.attachAlarms(alarms);
  }

  /** The alarm source may come later than the relay (the coordinator's setter). */
  attachAlarms(alarms: AlarmSource): void {
    this.unsubscribes.push(alarms.onChange((c) => this.guard('event-alarm', () => this.opts.sink.publish(this.opts.topics.alarm, alarmPayload(c)))));
  }

  detach(): void {
    this.attached = false;
    for (const u of this.unsubscribes.splice(0)) u();
  }

  /** A door left the config: its retained state is cleared, so no late subscriber sees a ghost door. */
  forgetDoor(doorId: string): void {
    if (!this.retainedDoors.delete(doorId)) return;
    this.opts.sink.publish(this.opts.topics.doorState(doorId), '', true);
  }

  /** On a (re)connect: a door's last known state, retained only (it is no change, so no event). */
  republish(e: StateEvent): void {
    this.guard('event-door', () => {
      if (this.opts.sink.publish(this.opts.topics.doorState(e.doorId), doorPayload(e), true)) this.retainedDoors.add(e.doorId);
    });
  }

  private decision(e: DecisionEvent): void {
    if (!this.attached) return;
    const { topics, sink } = this.opts;
    sink.publish(topics.decision, decisionPayload(e));
    if (this.opts.haReaderEvents()) sink.publish(topics.haReaderEvent(e.readerId), haReaderEventPayload(e));
  }

  private door(e: StateEvent): void {
    const { topics, sink } = this.opts;
    const payload = doorPayload(e);
    sink.publish(topics.door(e.doorId), payload);
    if (sink.publish(topics.doorState(e.doorId), payload, true)) this.retainedDoors.add(e.doorId);
  }

  private guard(task: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.failed(task, err);
    }
  }
}
