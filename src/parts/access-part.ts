import type { AccessIndex } from '../access/access-index.js';
import type { AccessModel, AreaDef } from '../access/model.js';
import { modelHash } from '../access/derive.js';
import { AntiPassbackTracker } from '../access/policy/antipassback.js';
import type { AntiPassbackHook, FirstPersonInHook, SiteState } from '../access/policy/context.js';
import { FirstPersonIn } from '../access/policy/first-person-in.js';
import { lastResetBefore } from '../access/policy/reset-times.js';
import { CompiledSchedules } from '../access/schedule/compiled-schedules.js';
import { accessModelOf } from '../config/access-model.js';
import type { Config } from '../config/schema.js';
import type { Db } from '../store/db.js';
import { readLockdown } from '../store/site-repository.js';
import { errorMessage } from '../util/errors.js';
import { guardedInterval } from '../util/guarded.js';
import type { Timer } from '../util/clock.js';
import { SYNC_STOP_BOUND_MS, type ConfigChange, type Part, type PartContext } from './part.js';

/** How often the schedule cache is checked against the clock; between an edge and the next look, decisions compute the state directly (exact, ~0.3 µs). */
const LOOK_MS = 1000;
/** Anti-passback positions older than their area's last reset are dropped this often (memory only: a check ignores them anyway). */
const SWEEP_MS = 3_600_000;

/**
 * The access model as the decisions read it (src/access/model.ts): compiled from the config,
 * schedules with their cached current states, the site's lockdown switch (site_state, written
 * by `lintel lockdown` from any process), and the stateful rules (anti-passback positions,
 * first-person-in). Started before the index: every index the gateway builds is set up with
 * this part's model (setUp), and a reload that changes the model recompiles here first and
 * has the index rebuilt beside the live one.
 */
export class AccessPart implements Part {
  readonly name = 'access';
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  /** Read by the core at every decision: a switch applies to the next read. */
  readonly site: SiteState = { lockdown: false };
  private compiled: { model: AccessModel; schedules: CompiledSchedules } | null = null;
  private passback: AntiPassbackTracker | null = null;
  private firstIn: FirstPersonIn | null = null;
  private timer: Timer | null = null;
  private sweptAt = 0;
  private firstInListeners: (() => void)[] = [];
  private now: () => number = () => Date.now();
  private logError: (err: unknown) => void = () => undefined;
  /** The site zone's reset instants; replaced when a reload changes the zone (the tracker keeps calling this). */
  private resets: (area: AreaDef, at: number) => number = () => -Infinity;

  private readonly antiPassbackHook: AntiPassbackHook = {
    check: (personId, readerId, at) => {
      const v = this.passback?.violation(personId, readerId, at) ?? null;
      return v === null ? 'ok' : v.mode;
    },
  };
  private readonly firstPersonInHook: FirstPersonInHook = {
    onGranted: (doorId, privileged, at) => {
      // Told from inside the decision: what it starts (the door hold's pulses) runs after it.
      if (this.firstIn?.onGranted(doorId, privileged, at) === true) queueMicrotask(() => this.firstInStarted());
    },
  };

  /**
   * What the core is handed with every read (badge pipeline, member QR). A hook is there only
   * while the model has something for it (an area, a first-person-in door): a site without
   * them pays nothing for either on a granted read.
   */
  readonly policy: { site: SiteState; antiPassback: AntiPassbackHook | undefined; firstPersonIn: FirstPersonInHook | undefined } = {
    site: this.site,
    antiPassback: undefined,
    firstPersonIn: undefined,
  };

  start(ctx: PartContext): void {
    this.now = () => ctx.clock.now();
    this.logError = (err) => {
      ctx.metrics.backgroundErrors.inc({ task: 'first-person-in' });
      ctx.logger.error({ err: errorMessage(err) }, 'first-person-in listener failed');
    };
    this.compile(ctx.config());
    this.timer = guardedInterval('access-model', () => this.look(ctx.clock.now()), {
      clock: ctx.clock,
      everyMs: LOOK_MS,
      logger: ctx.logger.child({ part: 'access' }),
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
    });
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** An empty index gets the model (group expansion, schedule slots): the live one and every rebuild alike. */
  setUp(index: AccessIndex): void {
    const { model, schedules } = this.started;
    index.setModel(model, schedules);
  }

  /** The door a granted read opened: the person's anti-passback position moves (a read whose pulse was not sent moved nobody). */
  opened(personId: number, readerId: string, at: number): void {
    this.passback?.commit(personId, readerId, at);
  }

  /** Lockdown as stored (own commits and other processes' alike reach here through the site-wide refresh). */
  refreshSite(db: Db): void {
    this.site.lockdown = readLockdown(db).on;
  }

  /** A privileged read started a first-person-in door's scheduled unlock. */
  onFirstPersonIn(fn: () => void): void {
    this.firstInListeners.push(fn);
  }

  private firstInStarted(): void {
    for (const fn of this.firstInListeners) {
      try {
        fn();
      } catch (err) {
        this.logError(err);
      }
    }
  }

  get firstPersonIn(): FirstPersonIn {
    const f = this.firstIn;
    if (!f) throw new Error('the access part has not started');
    return f;
  }

  get antiPassback(): AntiPassbackTracker {
    const p = this.passback;
    if (!p) throw new Error('the access part has not started');
    return p;
  }

  get model(): AccessModel {
    return this.started.model;
  }

  /** A reload that changed the model: new schedules and areas now; the index part rebuilds beside the live index with them. */
  reloaded(change: ConfigChange): void {
    this.compile(change.config);
  }

  private compile(cfg: Config): void {
    const model = accessModelOf(cfg);
    // An unchanged model keeps its compiled schedules: the live index reads that object, and a
    // new one would leave it uncached (every scheduled window computed directly) until a rebuild.
    if (this.compiled !== null && modelHash(this.compiled.model) === modelHash(model)) return;
    const schedules = new CompiledSchedules(model);
    schedules.refresh(this.now());
    this.compiled = { model, schedules };
    this.resets = lastResetBefore(model.timeZone);
    if (this.passback) this.passback.setAreas(model.areas);
    else this.passback = new AntiPassbackTracker(model.areas, { lastResetBefore: (area, at) => this.resets(area, at) });
    if (this.firstIn) this.firstIn.setModel(model.doors, schedules);
    else this.firstIn = new FirstPersonIn(model.doors, schedules);
    this.policy.antiPassback = model.areas.some((a) => a.antiPassback !== 'off') ? this.antiPassbackHook : undefined;
    this.policy.firstPersonIn = model.doors.some((d) => d.firstPersonIn) ? this.firstPersonInHook : undefined;
  }

  private look(now: number): void {
    const schedules = this.compiled?.schedules;
    if (schedules && (now < schedules.validFrom || now >= schedules.validUntil)) schedules.refresh(now);
    if (now - this.sweptAt >= SWEEP_MS) {
      this.sweptAt = now;
      this.passback?.sweep(now);
    }
  }

  private get started(): { model: AccessModel; schedules: CompiledSchedules } {
    if (!this.compiled) throw new Error('the access part has not started');
    return this.compiled;
  }
}
