import { DoorHold } from '../doors/door-hold.js';
import type { AccessPart } from './access-part.js';
import type { StatusPart } from '../status-builder.js';
import { SYNC_STOP_BOUND_MS, type ConfigChange, type Part, type PartContext } from './part.js';
import type { RelayPart } from './relay-part.js';

/**
 * Doors held unlocked: scheduled-unlock doors while their schedule is open (after the first
 * privileged person, for first-person-in doors) and operator holds. A train of the door's own
 * pulses (doors/door-hold.ts), so a dead gateway leaves every door locked within one pulse.
 * After the relay (it pulses through it) and the access part (the schedules, first-person-in
 * and the lockdown switch, which ends every hold).
 */
export class DoorHoldPart implements Part {
  readonly name = 'door-hold';
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  private hold: DoorHold | null = null;

  constructor(
    private readonly relay: RelayPart,
    private readonly access: AccessPart,
  ) {}

  start(ctx: PartContext): void {
    const access = this.access;
    const hold = (this.hold = new DoorHold({
      relay: this.relay.relay,
      doors: ctx.config().doors,
      scheduled: access.firstPersonIn,
      clock: ctx.clock,
      logger: ctx.logger.child({ part: 'door-hold' }),
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
      lockdown: () => access.site.lockdown,
    }));
    // The first privileged person of the day unlocks the lobby now, not at the next tick.
    access.onFirstPersonIn(() => hold.reviewNow());
    hold.onHold((e) => ctx.logger.info(e, e.kind === 'started' ? `door ${e.door} held unlocked (${e.cause})` : `door ${e.door} hold ended (${e.why})`));
    hold.start();
  }

  /** Stops the pulse train: each held door relocks at the end of its last pulse (logged by DoorHold). */
  stop(): void {
    this.hold?.stop();
  }

  get doorHold(): DoorHold {
    if (!this.hold) throw new Error('the door-hold part has not started');
    return this.hold;
  }

  status(): StatusPart {
    return { holds: this.hold?.status() ?? [] };
  }

  reloaded(change: ConfigChange): void {
    if (change.config.doors !== change.previous.doors) this.hold?.setDoors(change.config.doors);
    this.hold?.reviewNow();
  }
}
