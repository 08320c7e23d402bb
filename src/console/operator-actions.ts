import { apiErrorOf } from '../api/v1/error-handler.js';
import type { Writes } from '../api/v1/write-ops.js';
import type { AlarmSource } from '../doors/alarm-types.js';
import type { HoldOutcome, ReleaseOutcome } from '../doors/door-hold.js';
import type { PulseOutcome } from '../doors/door-relay.js';
import type { LearnMode } from '../readers/learn-mode.js';
import type { ReconcileReport } from '../upstream/reconciler.js';
import type { Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { maskCredential } from '../util/mask.js';
import { REQUIRED_ROLE, type Action, type ActionRefusal, type ActionResult, type OperatorActions } from './actions.js';
import { actorLabel, roleAtLeast, type Actor } from './operator.js';

/*
 * The one use case behind every operator action, whichever channel asked (console/actions.ts).
 * Order: the role, then the act, then the audit row. Acting first keeps a door from waiting on
 * the database (another program may hold its write lock for seconds); the audit row goes to the
 * writer thread after, and a failure to write it is logged and counted, never silent.
 */

export interface OperatorActionDeps {
  clock: Clock;
  logger: Logger;
  writes: Pick<Writes, 'audit' | 'setPersonState' | 'revokePersonTokens' | 'disableCard' | 'assignLearnedCard' | 'switchLockdownAudited'>;
  doors: {
    pulse(doorId: string): PulseOutcome | 'unknown_door';
    hold(doorId: string, untilMs: number, by: string): HoldOutcome;
    release(doorId: string, by: string): ReleaseOutcome;
  };
  /** Whether the site is in lockdown now (the access part's site state). */
  lockedDown(): boolean;
  /** Anti-passback's forgive for the person with this email ('off': no area of the site uses anti-passback). */
  forgive(email: string): 'forgiven' | 'unknown_person' | 'off';
  /** The platform link; null when none is configured. */
  reconcile: (() => Promise<ReconcileReport>) | null;
  alarms: () => AlarmSource | null;
  learn: LearnMode;
  readerKnown(readerId: string): boolean;
  countFailure(task: string): void;
}

const refuse = (code: ActionRefusal['code'], message: string): ActionRefusal => {
  const status = { forbidden_role: 403, not_found: 404, conflict: 409, unavailable: 503, invalid: 400 } as const;
  return { ok: false, code, message, status: status[code] };
};

type Done = { message: string; detail?: Record<string, unknown>; target: string; audit?: boolean };

export class ConsoleActions implements OperatorActions {
  constructor(private readonly deps: OperatorActionDeps) {}

  async run(actor: Actor, action: Action): Promise<ActionResult> {
    if (!roleAtLeast(actor.role, REQUIRED_ROLE[action.action])) {
      return refuse('forbidden_role', `${action.action} needs the ${REQUIRED_ROLE[action.action]} role`);
    }
    // Learn mode shows a full card number to the admin who armed it: over MQTT the answer goes to
    // every subscriber of the response topic, so enrolment stays on the console and the API.
    if (actor.via === 'mqtt' && (action.action === 'reader.learn' || action.action === 'learned.assign')) {
      return refuse('forbidden_role', 'learn mode is not offered over MQTT: its answer carries a full card number');
    }
    const by = actorLabel(actor);
    let done: Done | ActionRefusal;
    try {
      done = await this.act(by, action);
    } catch (err) {
      done = this.refusalOf(err, action);
    }
    if ('ok' in done) return done;
    // The store-backed actions audit in their own transaction; the others get their row here.
    if (done.audit !== false) await this.audit(by, action, done.target);
    this.deps.logger.info({ action: action.action, by, target: done.target }, `operator action: ${done.message}`);
    return { ok: true, action: action.action, message: done.message, detail: done.detail ?? {} };
  }

  private async act(by: string, a: Action): Promise<Done | ActionRefusal> {
    const d = this.deps;
    const ctx = { actor: by, now: d.clock.now() };
    switch (a.action) {
      case 'door.pulse': {
        // Lockdown means every door stays shut: a pulse would open what the lockdown closed.
        if (d.lockedDown()) return refuse('conflict', 'the site is in lockdown: lift it first');
        const out = d.doors.pulse(a.door);
        if (out === 'unknown_door') return refuse('not_found', `no door "${a.door}"`);
        if (out.status !== 'sent') return refuse('unavailable', `door ${a.door} could not be reached (${out.status})`);
        return { message: `door ${a.door} pulsed`, target: a.door, detail: { door: a.door } };
      }
      case 'door.hold': {
        const out = d.doors.hold(a.door, ctx.now + a.minutes * 60_000, by);
        if (out.status === 'unknown_door') return refuse('not_found', `no door "${a.door}"`);
        if (out.status === 'lockdown') return refuse('conflict', 'the site is in lockdown: lift it first');
        if (out.status !== 'held') return refuse('unavailable', `door ${a.door} cannot be held now (${out.status})`);
        return { message: `door ${a.door} held open for ${a.minutes} min`, target: a.door, detail: { door: a.door, until: new Date(out.until).toISOString() } };
      }
      case 'door.release': {
        const out = d.doors.release(a.door, by);
        if (out.status === 'not_held') return refuse('conflict', `door ${a.door} is not held by an operator`);
        return { message: `door ${a.door} released`, target: a.door, detail: { door: a.door, stillHeldBySchedule: out.stillHeldBySchedule } };
      }
      case 'lockdown.set': {
        const out = await d.writes.switchLockdownAudited(a.on, ctx);
        return { message: `lockdown ${a.on ? 'on' : 'off'}${out.changed ? '' : ' (unchanged)'}`, target: 'site', audit: false, detail: { on: a.on, changed: out.changed } };
      }
      case 'person.suspend':
      case 'person.reinstate': {
        const out = await d.writes.setPersonState(a.email, a.action === 'person.suspend' ? 'suspended' : 'active', ctx);
        return { message: `${out.target} ${a.action === 'person.suspend' ? 'suspended' : 'reinstated'}${out.changed ? '' : ' (unchanged)'}`, target: out.target, audit: false, detail: { changed: out.changed } };
      }
      case 'person.revoke-tokens': {
        const out = await d.writes.revokePersonTokens(a.email, ctx);
        return { message: `member tokens of ${out.target} revoked`, target: out.target, audit: false };
      }
      case 'card.disable': {
        const out = await d.writes.disableCard(a.email, a.card, ctx);
        return { message: `card ${out.target} disabled${out.changed ? '' : ' (unchanged)'}`, target: out.target, audit: false, detail: { changed: out.changed } };
      }
      case 'antipassback.forgive': {
        const out = d.forgive(a.email);
        if (out === 'off') return refuse('conflict', 'no area of this site uses anti-passback');
        if (out === 'unknown_person') return refuse('not_found', 'no person with that email');
        return { message: `anti-passback forgiven for ${a.email}`, target: a.email };
      }
      case 'upstream.reconcile': {
        if (!d.reconcile) return refuse('conflict', 'no booking platform is configured');
        const r = await d.reconcile();
        return { message: `reconciled ${r.resources} resources: ${r.changed} changes, ${r.failed} failed fetches`, target: 'upstream', detail: { ...r } };
      }
      case 'alarm.acknowledge': {
        const source = d.alarms();
        const out = source ? source.acknowledge(a.alarm, by, ctx.now) : ({ status: 'not_found' } as const);
        if (out.status === 'not_found') return refuse('not_found', 'no such alarm');
        return { message: `alarm ${out.alarm.kind} at ${out.alarm.door} ${out.status}`, target: out.alarm.id, detail: { alarm: out.alarm.id } };
      }
      case 'reader.learn': {
        if (!d.readerKnown(a.reader)) return refuse('not_found', `no reader "${a.reader}"`);
        const card = await d.learn.arm(a.reader, by).card;
        if (card === null) return refuse('conflict', `no card was presented at ${a.reader} in time`);
        // Unmasked for the admin who armed it, here only; the audit row has it masked.
        return { message: `card read at ${a.reader}`, target: `${a.reader} ${maskCredential(card.number)}`, detail: { learn: card.id, card: card.number, format: card.format, reader: a.reader } };
      }
      case 'learned.assign': {
        const card = d.learn.claim(a.learn, by);
        if (card === 'not_found') return refuse('not_found', 'no captured card with that id (captures are kept 10 minutes)');
        if (card === 'not_yours') return refuse('forbidden_role', 'only the admin who armed the reader may assign its card');
        const out = await d.writes.assignLearnedCard(a.email, card.number, card.format, ctx);
        return { message: `card ${out.target} assigned`, target: out.target, audit: false, detail: { changed: out.changed } };
      }
    }
  }

  private refusalOf(err: unknown, action: Action): ActionRefusal {
    // The writer thread's refusals arrive as ApiErrors; a direct call's as the store's own errors.
    const api = apiErrorOf(err);
    if (api) {
      if (api.status === 404) return refuse('not_found', api.message);
      if (api.status === 409 || api.status === 412) return refuse('conflict', api.message);
      if (api.status === 503) return refuse('unavailable', api.message);
      return refuse('invalid', api.message);
    }
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return refuse('unavailable', 'the database is busy (another program holds its lock); try again');
    this.deps.countFailure(`action:${action.action}`);
    this.deps.logger.error({ err: errorMessage(err), action: action.action }, 'operator action failed');
    return refuse('unavailable', `${action.action} failed: ${errorMessage(err)}`);
  }

  private async audit(actor: string, action: Action, target: string): Promise<void> {
    try {
      await this.deps.writes.audit({ at: this.deps.clock.now(), actor, action: action.action, target });
    } catch (err) {
      this.deps.countFailure('action-audit');
      this.deps.logger.error({ err: errorMessage(err), action: action.action, actor }, 'operator action done but its audit row could not be written');
    }
  }
}
