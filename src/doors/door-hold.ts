import type { ScheduledUnlocks } from '../access/policy/first-person-in.js';
import type { Clock, Timer } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { guardedInterval, runGuarded, type FailureCounter } from '../util/guarded.js';
import type { Logger } from '../util/log.js';
import type { PulseOutcome } from './door-relay.js';

/*
 * Keeps doors unlocked while they should be: a door in mode 'scheduled-unlock' while its
 * schedule is open (and, with first-person-in, once started: src/access/policy/first-person-in.ts),
 * and an operator's hold "until then" (issue #13's "hold open for N minutes").
 *
 * The lintel firmware protocol has no "stay unlocked": only pulses of at most 30 s
 * (firmware-protocol/README.md). So a hold is a train of the door's own pulses, each sent
 * before the previous one ends (the firmware extends an unlock to max(until, now + pulseMs), so
 * an early pulse never shortens anything). That is fail secure by construction: if the gateway
 * dies, hangs or loses the broker, the pulses stop and the door relocks at the end of the last
 * one — within one pulseMs (3 s by default), never "open until someone notices".
 *
 * Timing: every TICK_MS the hold looks at each door; a door that should be open is pulsed again
 * when its last pulse would end within TICK_MS + lead, lead = min(RENEW_LEAD_MS, pulseMs / 2),
 * so each renewal is sent with more than `lead` of the last pulse left and a late tick or a slow
 * hop through the broker still lands before the relock (a 3 s pulse is renewed every ~2 s). A
 * door whose pulseMs is under ~3 ticks is pulsed every tick, and one under a tick may relock
 * for a moment between pulses: give held doors a pulseMs of a second or more. A hold ends up to
 * one pulseMs after its `until`: the last pulse runs out.
 *
 * Not kept across a restart: operator holds live in memory, so a restarted gateway holds only
 * what the schedules say (fail secure). stop() stops re-pulsing and releases nothing by command
 * (the protocol has no "lock now"): each held door relocks at the end of its last pulse, and
 * stop() logs which doors those are.
 */

export const TICK_MS = 250;
export const RENEW_LEAD_MS = 1000;

/** What the hold needs of DoorRelay: its pulse API, unchanged, and its connection events. */
export type HoldRelay = {
  pulse(doorId: string, readAt?: number): PulseOutcome;
  onConnection(fn: (up: boolean) => void): () => void;
};

export interface HeldDoorConfig {
  readonly id: string;
  readonly pulseMs: number;
}

export type HoldCause = 'operator' | 'schedule';
export type HoldEndReason = 'released' | 'expired' | 'schedule_closed' | 'lockdown' | 'door_removed' | 'stopped';

/** A hold began or ended; the caller audits it (who held, who released) and shows it. */
export type HoldEvent =
  | { kind: 'started'; door: string; cause: HoldCause; by: string | null; until: number | null; at: number }
  | { kind: 'ended'; door: string; cause: HoldCause; heldBy: string | null; releasedBy: string | null; why: HoldEndReason; at: number };

/** held: `relay` is the door's latest pulse attempt ('sent': it is unlocked now; otherwise retried every tick). */
export type HoldOutcome =
  | { status: 'held'; until: number; relay: PulseOutcome['status'] | null }
  | { status: 'unknown_door' | 'not_in_future' | 'lockdown' | 'not_running' };

export type ReleaseOutcome = { status: 'released'; stillHeldBySchedule: boolean } | { status: 'not_held' };

export interface DoorHoldStatus {
  door: string;
  operator: { until: number; by: string } | null;
  schedule: boolean;
  lastPulseAt: number | null;
  lastPulse: PulseOutcome['status'] | null;
}

export interface DoorHoldDeps {
  relay: HoldRelay;
  doors: readonly HeldDoorConfig[];
  /** The scheduled-unlock doors (FirstPersonIn); it keeps its own state across reloads (setModel). */
  scheduled: ScheduledUnlocks;
  clock: Clock;
  logger: Logger;
  countFailure?: FailureCounter;
  /** The site's lockdown switch (the caller owns it): while on, nothing is held and operator holds end. */
  lockdown?: () => boolean;
}

interface DoorState {
  pulseMs: number;
  operator: { until: number; by: string } | null;
  schedule: boolean;
  lastPulseAt: number;
  lastPulse: PulseOutcome['status'] | null;
  /** A held door whose pulses cannot be sent: logged once when it starts and once when it ends. */
  failing: boolean;
}

export class DoorHold {
  private doors = new Map<string, DoorState>();
  private readonly listeners = new Set<(e: HoldEvent) => void>();
  private timer: Timer | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: DoorHoldDeps) {
    this.setDoors(deps.doors);
  }

  start(): void {
    if (this.timer) return;
    const unreachable = this.deps.scheduled.scheduledDoors().filter((id) => !this.doors.has(id));
    if (unreachable.length > 0) this.deps.logger.warn({ doors: unreachable }, 'scheduled-unlock doors the relay does not drive are never held');
    this.unsubscribe = this.deps.relay.onConnection((up) => {
      // Back on the broker: a held door has relocked while the link was down; reopen it now.
      if (up) this.reviewNow();
    });
    this.timer = guardedInterval('door hold', () => this.reviewNow(), { clock: this.deps.clock, everyMs: TICK_MS, logger: this.deps.logger, countFailure: this.deps.countFailure });
    this.reviewNow();
  }

  /** Stops re-pulsing. Sends nothing: each held door relocks at the end of its last pulse. */
  stop(): void {
    if (!this.timer) return;
    this.timer.cancel();
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    const now = this.deps.clock.now();
    const held: string[] = [];
    for (const [door, state] of this.doors) {
      if (!this.wanted(state)) continue;
      held.push(door);
      this.endOperator(door, state, 'stopped', now);
      this.endSchedule(door, state, 'stopped', now);
    }
    if (held.length > 0) this.deps.logger.info({ doors: held }, 'door hold stopped: no more pulses; these doors relock at the end of their last pulse');
  }

  /**
   * An operator holds the door unlocked until `untilMs` (replacing any earlier hold of theirs or
   * another's). The first pulse is sent now. Refused during lockdown, and before start() or
   * after stop(): nothing would renew the pulse.
   */
  hold(doorId: string, untilMs: number, by: string): HoldOutcome {
    if (!Number.isFinite(untilMs)) throw new RangeError(`hold until must be a finite instant, got ${untilMs}`);
    const state = this.doors.get(doorId);
    const now = this.deps.clock.now();
    if (state === undefined) return { status: 'unknown_door' };
    if (this.timer === null) return { status: 'not_running' };
    if (this.lockedDown()) return { status: 'lockdown' };
    if (untilMs <= now) return { status: 'not_in_future' };
    state.operator = { until: untilMs, by };
    this.emit({ kind: 'started', door: doorId, cause: 'operator', by, until: untilMs, at: now });
    this.deps.logger.info({ door: doorId, by, until: new Date(untilMs).toISOString() }, 'door held open by an operator');
    this.review(doorId, state, now, false);
    return { status: 'held', until: untilMs, relay: state.lastPulse };
  }

  /**
   * Ends an operator hold: no more pulses for it; the door relocks at the end of the last one
   * unless its schedule holds it. `by`: who released it, for the event (null: not known).
   */
  release(doorId: string, by: string | null = null): ReleaseOutcome {
    const state = this.doors.get(doorId);
    if (state?.operator == null) return { status: 'not_held' };
    const now = this.deps.clock.now();
    this.deps.logger.info({ door: doorId, by, heldBy: state.operator.by }, 'operator hold released');
    this.endOperator(doorId, state, 'released', now, by);
    return { status: 'released', stillHeldBySchedule: state.schedule };
  }

  /** A reload's doors: new pulse lengths apply to the next pulse; a removed door's holds end. */
  setDoors(doors: readonly HeldDoorConfig[]): void {
    const next = new Map<string, DoorState>();
    const now = this.deps.clock.now();
    for (const d of doors) {
      const was = this.doors.get(d.id);
      next.set(d.id, was ? { ...was, pulseMs: d.pulseMs } : { pulseMs: d.pulseMs, operator: null, schedule: false, lastPulseAt: -Infinity, lastPulse: null, failing: false });
    }
    for (const [door, state] of this.doors) {
      if (next.has(door)) continue;
      this.endOperator(door, state, 'door_removed', now);
      this.endSchedule(door, state, 'door_removed', now);
    }
    this.doors = next;
  }

  /** Looks at every door now rather than at the next tick (lockdown switched, a first person just badged in). */
  reviewNow(): void {
    if (this.timer === null) return; // stopped (or not started): nothing may be pulsed any more
    const now = this.deps.clock.now();
    const lockdown = this.lockedDown();
    for (const [door, state] of this.doors) {
      // One door's failure (a schedule that throws) must not stop the others being held.
      try {
        this.review(door, state, now, lockdown);
      } catch (err) {
        this.deps.countFailure?.('door hold');
        this.deps.logger.error({ door, err: errorMessage(err) }, 'door hold review failed for this door');
      }
    }
  }

  status(): DoorHoldStatus[] {
    const out: DoorHoldStatus[] = [];
    for (const [door, s] of this.doors) {
      if (!this.wanted(s)) continue;
      out.push({ door, operator: s.operator && { ...s.operator }, schedule: s.schedule, lastPulseAt: Number.isFinite(s.lastPulseAt) ? s.lastPulseAt : null, lastPulse: s.lastPulse });
    }
    return out;
  }

  /** Returns an unsubscribe function. A listener that throws is logged and counted, never breaks the hold. */
  onHold(fn: (e: HoldEvent) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  private review(door: string, state: DoorState, now: number, lockdown: boolean): void {
    if (state.operator && lockdown) this.endOperator(door, state, 'lockdown', now);
    else if (state.operator && state.operator.until <= now) this.endOperator(door, state, 'expired', now);
    // Asked on every tick even while locked down: first-person-in learns of interval ends by being asked.
    const scheduleOpen = this.deps.scheduled.shouldBeUnlocked(door, now);
    if (scheduleOpen && !lockdown && !state.schedule) {
      state.schedule = true;
      this.emit({ kind: 'started', door, cause: 'schedule', by: null, until: null, at: now });
      this.deps.logger.info({ door }, 'scheduled unlock started');
    } else if (state.schedule && (!scheduleOpen || lockdown)) {
      this.endSchedule(door, state, lockdown ? 'lockdown' : 'schedule_closed', now);
    }
    const lead = Math.min(RENEW_LEAD_MS, state.pulseMs / 2);
    if (!this.wanted(state) || now + TICK_MS + lead < state.lastPulseAt + state.pulseMs) return;
    this.pulse(door, state, now);
  }

  private pulse(door: string, state: DoorState, now: number): void {
    const outcome = this.deps.relay.pulse(door, now);
    state.lastPulse = outcome.status;
    if (outcome.status === 'sent') {
      state.lastPulseAt = now;
      if (state.failing) this.deps.logger.info({ door }, 'held door pulsed again');
      state.failing = false;
      return;
    }
    // Retried every tick; meanwhile the door is locked (fail secure), which the operator must know.
    if (!state.failing) this.deps.logger.warn({ door, relay: outcome.status }, 'held door cannot be pulsed; it is locked until the relay is reachable again');
    state.failing = true;
  }

  private endOperator(door: string, state: DoorState, why: HoldEndReason, now: number, releasedBy: string | null = null): void {
    const held = state.operator;
    if (held === null) return;
    state.operator = null;
    if (why !== 'released') this.deps.logger.info({ door, heldBy: held.by, why }, 'operator hold ended');
    this.emit({ kind: 'ended', door, cause: 'operator', heldBy: held.by, releasedBy, why, at: now });
    if (!this.wanted(state)) state.failing = false;
  }

  private endSchedule(door: string, state: DoorState, why: HoldEndReason, now: number): void {
    if (!state.schedule) return;
    state.schedule = false;
    this.deps.logger.info({ door, why }, 'scheduled unlock ended; the door relocks at the end of its last pulse');
    this.emit({ kind: 'ended', door, cause: 'schedule', heldBy: null, releasedBy: null, why, at: now });
    if (!this.wanted(state)) state.failing = false;
  }

  private wanted(state: DoorState): boolean {
    return state.operator !== null || state.schedule;
  }

  private lockedDown(): boolean {
    return this.deps.lockdown?.() ?? false;
  }

  private emit(event: HoldEvent): void {
    for (const fn of this.listeners) void runGuarded('door hold listener', () => fn(event), this.deps);
  }
}
