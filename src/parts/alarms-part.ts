import type { DoorConfig } from '../config/schema.js';
import type { AlarmChange, AlarmSource, DoorAlarm } from '../doors/alarm-types.js';
import { DoorAlarms, type AlarmDoorConfig } from '../doors/door-alarms.js';
import type { DoorRelay } from '../doors/door-relay.js';
import type { DoorAlarmEntry } from '../http/status.js';
import type { StatusPart } from '../status-builder.js';
import type { Clock, Timer } from '../util/clock.js';
import { guardedInterval, type GuardDeps } from '../util/guarded.js';
import type { Logger } from '../util/log.js';
import type { DoorHoldPart } from './door-hold-part.js';
import { SYNC_STOP_BOUND_MS, type ConfigChange, type Part, type PartContext } from './part.js';
import type { RelayPart } from './relay-part.js';

/** How often open doors are checked against their held-open limit: the limit's resolution (it is at least 1 s). */
export const ALARM_TICK_MS = 250;

/**
 * Door alarms (doors/door-alarms.ts) fed from what the gateway sees: the contact reports and
 * the unlocks the relay sends, and the doors held unlocked. After the relay and the door hold,
 * which it reads; the console, the metrics and the MQTT events read it through alarms().
 */
export class AlarmsPart implements Part {
  readonly name = 'alarms';
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  private machine: DoorAlarms | null = null;
  private timer: Timer | null = null;
  private readonly unsubscribe: Array<() => void> = [];
  private logger: Logger | null = null;
  private clock: Clock | null = null;

  constructor(
    private readonly relay: RelayPart,
    private readonly doorHold: DoorHoldPart,
  ) {}

  start(ctx: PartContext): void {
    const relay = this.relay.relay;
    const hold = this.doorHold.doorHold;
    const logger = (this.logger = ctx.logger.child({ part: 'alarms' }));
    this.clock = ctx.clock;
    const guard: GuardDeps = { logger, countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }) };
    const machine = (this.machine = new DoorAlarms({ doors: alarmDoors(ctx.config().doors, relay), ...guard }));
    machine.onChange((c) => logChange(logger, c));
    // What the relay learnt before this part started (the retained states) is the first sighting.
    const now = ctx.clock.now();
    for (const d of relay.doorStatus()) machine.contact(d.doorId, d.online === true ? d.contact : 'unknown', now);
    this.unsubscribe.push(
      // lintel_door_alarms{door,kind}, read at scrape time.
      ctx.metrics.watchAlarms(machine),
      // The relay catches, logs and counts a listener that throws (DoorRelay.listenerFailed).
      relay.onState((e) => machine.contact(e.doorId, e.state.online ? e.state.contact : 'unknown', ctx.clock.now())),
      // Synchronous and cheap: it runs on the badge path, right after the send (no promise, no wrapper).
      relay.onPulse((e) => machine.pulsed(e.doorId, e.at)),
      // Without the broker no report arrives: no door is seen until the retained states come back.
      relay.onConnection((up) => (up ? undefined : machine.blind())),
    );
    this.timer = guardedInterval(
      'door alarms',
      () => {
        const at = ctx.clock.now();
        // A hold whose last pulse could not be sent has left its door locked (fail secure): an
        // opening then is forced. The pulses that were sent authorise through onPulse.
        machine.holds(hold.status().filter((s) => s.lastPulse === 'sent').map((s) => s.door), at);
        machine.tick(at);
      },
      { clock: ctx.clock, everyMs: ALARM_TICK_MS, ...guard },
    );
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** What the console, the metrics and the MQTT events read and acknowledge. */
  alarms(): AlarmSource {
    if (!this.machine) throw new Error('the alarms part has not started');
    return this.machine;
  }

  status(): StatusPart {
    const machine = this.machine;
    return machine ? { alarms: machine.active().map(statusEntry) } : {};
  }

  /** New limits apply to the doors open now; the relay (an earlier part) already has the new drivers. */
  reloaded(change: ConfigChange): void {
    if (!this.machine || !this.clock) return;
    try {
      this.machine.setDoors(alarmDoors(change.config.doors, this.relay.relay), this.clock.now());
    } catch (err) {
      this.logger?.error({ err: (err as Error).message }, 'door alarms could not take the reloaded doors; the previous limits stay');
    }
  }
}

/** A door's alarm settings with whether its driver reports a contact at all (DoorRelay knows each door's driver). */
function alarmDoors(doors: readonly DoorConfig[], relay: Pick<DoorRelay, 'doorStatus'>): AlarmDoorConfig[] {
  const reports = new Map(relay.doorStatus().map((d) => [d.doorId, d.reports.contact]));
  return doors.map((d) => ({ id: d.id, pulseMs: d.pulseMs, commandTtlMs: d.commandTtlMs, reportsContact: reports.get(d.id) ?? false, alarms: d.alarms }));
}

const DETAIL: Record<DoorAlarm['kind'], string> = {
  forced_open: 'opened with no badge, pulse or hold behind it',
  held_open: 'still open past its limit after the authorised opening',
};

function statusEntry(a: DoorAlarm): DoorAlarmEntry {
  const state = a.clearedAt !== null ? 'closed again, waiting for an acknowledgement' : a.acknowledgedAt !== null ? 'acknowledged, the door is still open' : 'the door is still open';
  return { ...a, detail: `${DETAIL[a.kind]}; ${state}` };
}

function logChange(logger: Logger, c: AlarmChange): void {
  const { id, door, kind, acknowledgedBy } = c.alarm;
  if (c.change === 'raised') logger.warn({ alarm: id, door, kind }, `door alarm raised: ${door} ${kind.replace('_', ' ')}`);
  else if (c.change === 'acknowledged') logger.info({ alarm: id, door, kind, by: acknowledgedBy }, 'door alarm acknowledged');
  else logger.info({ alarm: id, door, kind }, 'door alarm cleared: the door is closed');
}
