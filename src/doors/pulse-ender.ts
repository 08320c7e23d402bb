import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/**
 * The gateway as the relock timer, for devices that have none of their own (ESPHome's MQTT
 * switch: ON stays on until something says OFF). Every unlock sent arms an OFF for pulseMs
 * later; a second unlock within the pulse restarts it. An OFF is always safe to deliver late,
 * so one that cannot be sent (the broker link is down) is owed and sent on the next connect —
 * and on every connect each such door not in a pulse is sent OFF anyway, which also ends a
 * pulse a crashed or restarted gateway left open. A clean stop ends the pulses in progress
 * first. What this cannot cover — the gateway dying mid-pulse and staying dead — is why the
 * README asks for the device-side auto-off in the device's own configuration too.
 */
export class PulseEnder {
  private readonly timers = new Map<string, Timer>();
  private readonly owed = new Set<string>();
  /** Pulses this timer ended with an OFF (on time, or owed and sent on reconnect). */
  sent = 0;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Publishes the door's OFF; false when it could not (no connection). */
    private readonly relock: (doorId: string) => boolean,
  ) {}

  unlockSent(doorId: string, pulseMs: number): void {
    this.timers.get(doorId)?.cancel();
    this.owed.delete(doorId);
    this.timers.set(doorId, this.clock.setTimeout(() => this.end(doorId), pulseMs));
  }

  /** Connected (first time or again): every door given here that is not mid-pulse is sent OFF. */
  connected(doorIds: Iterable<string>): void {
    for (const doorId of doorIds) {
      if (this.timers.has(doorId)) continue;
      const wasOwed = this.owed.delete(doorId);
      if (!this.relock(doorId)) continue;
      if (!wasOwed) continue; // a precaution: nothing known to be on
      this.sent += 1;
      this.logger.warn({ door: doorId }, 'pulse ended while the broker link was down; its OFF was sent on reconnect');
    }
  }

  /** Before a clean stop: pulses in progress end now rather than outlive the gateway's timer. */
  endAll(): void {
    for (const doorId of [...this.timers.keys()]) this.end(doorId);
  }

  /**
   * The door is removed or drives another device from now on: a pulse in progress is ended on
   * the old device first (`relock` still sees the old door), then the door is forgotten.
   */
  retire(doorId: string): void {
    if (this.timers.has(doorId)) this.end(doorId);
    this.cancel(doorId);
  }

  cancel(doorId: string): void {
    this.timers.get(doorId)?.cancel();
    this.timers.delete(doorId);
    this.owed.delete(doorId);
  }

  clear(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.owed.clear();
  }

  private end(doorId: string): void {
    this.timers.get(doorId)?.cancel();
    this.timers.delete(doorId);
    if (this.relock(doorId)) {
      this.sent += 1;
      return;
    }
    this.owed.add(doorId);
    this.logger.error({ door: doorId }, 'pulse over but the broker link is down: the OFF is sent on reconnect; the device stays on until then unless it has its own auto-off');
  }
}
