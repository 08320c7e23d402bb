import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** How long past its pulse a relay may still report on before the gateway switches it off. */
export const RELOCK_GRACE_MS = 2000;

/**
 * The gateway's second line behind a device's own auto-off: a door whose device reports its
 * relay on for longer than pulseMs + RELOCK_GRACE_MS after the last unlock is sent an explicit
 * OFF (which is safe whenever it arrives), and it is logged as an error. It catches a device
 * that ignores its timer (a zigbee switch without on_time support, a Tasmota whose PulseTime
 * was lost) or one switched on by hand. It cannot help a device that stops reporting: that is
 * what the device-side timer is for. DoorRelay arms it only for doors whose driver declares
 * `behaviour.relockBackstop` (drivers/driver.ts): not lintel's, whose firmware relocks by itself
 * and whose protocol has no "lock now".
 */
export class RelockBackstop {
  private readonly timers = new Map<string, Timer>();
  fired = 0;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Publishes the door's OFF; false when it could not (no connection, or no OFF for that driver). */
    private readonly relock: (doorId: string) => boolean,
  ) {}

  /** An unlock was sent: a device that is on now stays on for a new pulse, so the wait restarts. */
  unlockSent(doorId: string, pulseMs: number): void {
    if (this.timers.has(doorId)) this.arm(doorId, pulseMs);
  }

  /** The device reported its relay. */
  reported(doorId: string, relay: 'locked' | 'unlocked' | 'unknown', pulseMs: number): void {
    if (relay !== 'unlocked') return this.cancel(doorId);
    if (!this.timers.has(doorId)) this.arm(doorId, pulseMs);
  }

  cancel(doorId: string): void {
    this.timers.get(doorId)?.cancel();
    this.timers.delete(doorId);
  }

  clear(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private arm(doorId: string, pulseMs: number): void {
    this.timers.get(doorId)?.cancel();
    const waitMs = pulseMs + RELOCK_GRACE_MS;
    this.timers.set(
      doorId,
      this.clock.setTimeout(() => {
        this.timers.delete(doorId);
        const sent = this.relock(doorId);
        if (sent) this.fired += 1;
        this.logger.error({ door: doorId, onForMs: waitMs, relockSent: sent }, 'door relay still on past its pulse; the device did not switch itself off');
      }, waitMs),
    );
  }
}
