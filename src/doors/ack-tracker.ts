import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { AckResult, DoorAck } from './protocol.js';

export interface LastAck {
  commandId: string;
  result: AckResult;
  reason: string | null;
  /** Door clock when it acted. */
  at: number;
  /** Gateway clock when the ack arrived. */
  receivedAt: number;
  /** Gateway time from publish to ack; null for a late ack (its wait had already ended). */
  latencyMs: number | null;
}

export interface AckEvent {
  doorId: string;
  ack: DoorAck;
  latencyMs: number | null;
  /** True when the ack arrived after its timeout and was already counted missing. */
  late: boolean;
}

/** Remembered after a timeout so a late ack is told apart from a stranger's ack. */
const TIMED_OUT_MEMORY = 256;

/**
 * Acks are observed, never awaited: the unlock has been sent by the time we track it, and a
 * missing or late ack is something to log and count (a door controller in trouble), not a
 * reason to hold up the next badge.
 */
export class AckTracker {
  /** Insertion-ordered, so the oldest wait is always first: one sweep timer serves them all. */
  private readonly waiting = new Map<string, { doorId: string; sentAt: number }>();
  private sweeper: Timer | null = null;
  private readonly timedOut = new Map<string, string>();
  private readonly lastByDoor = new Map<string, LastAck>();
  /** Per door: when its latest missing ack was counted; cleared by the door's next ack (door health). */
  private readonly missedByDoor = new Map<string, number>();
  private readonly listeners = new Set<(event: AckEvent) => void>();
  private tally = { acked: 0, missingAcks: 0, lateAcks: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** On the unlock hot path: a map insert, no timer per command. */
  expect(doorId: string, commandId: string): void {
    this.waiting.set(commandId, { doorId, sentAt: this.clock.now() });
    if (this.sweeper === null) {
      // A quarter of the timeout: a missing ack is reported between 1× and 1.25× the timeout.
      this.sweeper = this.clock.setInterval(() => this.sweep(), Math.max(1, Math.ceil(this.timeoutMs / 4)));
    }
  }

  received(doorId: string, ack: DoorAck): void {
    const now = this.clock.now();
    const entry = this.waiting.get(ack.id);
    let latencyMs: number | null = null;
    let late = false;
    if (entry && entry.doorId === doorId) {
      this.waiting.delete(ack.id);
      latencyMs = now - entry.sentAt;
      this.tally.acked += 1;
    } else if (this.timedOut.get(ack.id) === doorId) {
      this.timedOut.delete(ack.id);
      late = true;
      this.tally.lateAcks += 1;
      this.logger.warn({ door: doorId, commandId: ack.id, result: ack.result }, 'late door ack (already counted missing)');
    } else {
      // Another gateway's command, or one sent before our restart: not ours to count.
      this.logger.debug({ door: doorId, commandId: ack.id }, 'ack for an unknown command ignored');
      return;
    }
    // Any ack, a late one too, says the controller is there again: the door is healthy once more.
    this.missedByDoor.delete(doorId);
    if (ack.result !== 'executed') {
      this.logger.warn({ door: doorId, commandId: ack.id, result: ack.result, reason: ack.reason }, 'door did not execute the pulse');
    }
    this.lastByDoor.set(doorId, { commandId: ack.id, result: ack.result, reason: ack.reason ?? null, at: ack.at, receivedAt: now, latencyMs });
    for (const fn of this.listeners) {
      try {
        fn({ doorId, ack, latencyMs, late });
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'ack listener threw');
      }
    }
  }

  /**
   * The id of the oldest unlock of `doorId` still waiting: what a device that answers without
   * naming the command (a relay reported on) is taken to answer.
   */
  oldestPending(doorId: string): string | null {
    for (const [commandId, entry] of this.waiting) if (entry.doorId === doorId) return commandId;
    return null;
  }

  pending(doorId: string): number {
    let n = 0;
    for (const entry of this.waiting.values()) if (entry.doorId === doorId) n += 1;
    return n;
  }

  last(doorId: string): LastAck | null {
    return this.lastByDoor.get(doorId) ?? null;
  }

  /** When an unlock of `doorId` last went unanswered past the timeout with no ack from the door since; null otherwise. */
  missedSince(doorId: string): number | null {
    return this.missedByDoor.get(doorId) ?? null;
  }

  counts(): { acked: number; missingAcks: number; lateAcks: number } {
    return { ...this.tally };
  }

  onAck(fn: (event: AckEvent) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** On stop: no timer may outlive the relay. */
  clear(): void {
    this.sweeper?.cancel();
    this.sweeper = null;
    this.waiting.clear();
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [commandId, entry] of this.waiting) {
      if (now - entry.sentAt < this.timeoutMs) break;
      this.expire(commandId, entry, now);
    }
    if (this.waiting.size === 0) {
      this.sweeper?.cancel();
      this.sweeper = null;
    }
  }

  private expire(commandId: string, entry: { doorId: string }, now: number): void {
    this.waiting.delete(commandId);
    this.tally.missingAcks += 1;
    this.missedByDoor.set(entry.doorId, now);
    this.timedOut.set(commandId, entry.doorId);
    if (this.timedOut.size > TIMED_OUT_MEMORY) {
      const oldest = this.timedOut.keys().next();
      if (!oldest.done) this.timedOut.delete(oldest.value);
    }
    this.logger.warn({ door: entry.doorId, commandId, timeoutMs: this.timeoutMs }, 'no ack from door');
  }
}
