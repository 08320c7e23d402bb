import { Counter } from 'prom-client';
import { ConfigError, loadConfigFile } from './config/load.js';
import { siteLocations } from './config/locations.js';
import { planReload, type ReloadPlan } from './config/reload-plan.js';
import type { Config } from './config/schema.js';
import { resolveSecret } from './config/secret-files.js';
import type { Metrics } from './metrics.js';
import { logRevoked } from './store/location-revoke.js';
import type { RevokedLocation } from './store/reload-mapping.js';
import type { ReloadWrites } from './store/reload-writes.js';
import { isSqliteBusy } from './store/sqlite-busy.js';
import type { UpstreamLink } from './upstream/upstream-link.js';
import { backoffMs, type Clock } from './util/clock.js';
import { errorMessage } from './util/errors.js';
import { runGuarded } from './util/guarded.js';
import type { Logger } from './util/log.js';

/** A reload that cannot be applied as a whole; `problems` are path-labelled like config errors. */
export class ReloadRejected extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ReloadRejected';
  }
}

/** Attempts of a reload that meets another connection's write lock (SQLITE_BUSY), with backoff between. */
const RELOAD_ATTEMPTS = 5;

/** What of the gateway a reload reads and, once everything is validated and written, replaces. */
export interface ReloadTarget {
  readonly config: Config;
  /** Where the reload's mapping transaction runs (store/reload-writes.ts): a connection of its own, off the badge path. */
  readonly reloadWrites: Pick<ReloadWrites, 'apply'>;
  readonly upstream: UpstreamLink | null;
  /** Every running platform link told of a mapping change, each of its own location's resources; null: no link runs. */
  readonly upstreamMapping: ((changed: string[], config: Config) => Promise<void>) | null;
  /** The locations' links a reload stops (parts/upstream-part.ts); null: the gateway has no platform. */
  readonly locationLinks: LocationLinks | null;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** False while starting or stopping: a reload then is refused, not half-applied. */
  running(): boolean;
  /**
   * Called once the new mapping is committed: the new running config (its doors go to the relay,
   * links of newly connected locations start), and the platform tokens re-read, by location id.
   */
  commit(config: Config, tokens: ReadonlyMap<string, string>): void;
}

/**
 * A location disconnected by a reload: its link stops before anything is written, so that
 * nothing it fetches lands after the revoke (and its callbacks 404 from that moment).
 */
export interface LocationLinks {
  detach(ids: readonly string[]): Promise<DetachedLinks>;
}

export interface DetachedLinks {
  /** The reload failed after all: the links run again as before (issue 9: a failed reload changes nothing). */
  restore(): Promise<void>;
  /** The reload committed: their subscriptions are deleted at the platform; best effort, bounded, logged, never throws. */
  unsubscribe(): Promise<void>;
}

/**
 * SIGHUP handling for one gateway. Reloads run one at a time; signals that arrive meanwhile
 * collapse into one more run with the file as it is then (a reload storm costs one more reload,
 * not a hundred). Nothing here throws past `reloadFile`: a rejected reload is logged with its
 * problems and counted, and the running configuration stays.
 */
export class GatewayReloader {
  private running: Promise<void> | null = null;
  private pendingFile: string | null = null;
  private readonly reloads: Counter<'result'>;

  constructor(private readonly target: ReloadTarget) {
    this.reloads = new Counter({
      name: 'lintel_reloads_total',
      help: 'Configuration reloads (SIGHUP) by result: applied, or rejected with the running configuration kept',
      labelNames: ['result'] as const,
      registers: [target.metrics.registry],
    });
  }

  reloadFile(file: string): Promise<void> {
    if (this.running) {
      this.pendingFile = file;
      return this.running;
    }
    const loop = async (): Promise<void> => {
      let next: string | null = file;
      while (next !== null) {
        this.pendingFile = null;
        await this.reloadOnce(next);
        next = this.pendingFile;
      }
    };
    this.running = loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async reloadOnce(file: string): Promise<void> {
    const { logger, metrics } = this.target;
    await runGuarded(
      'reload',
      async () => {
        try {
          if (!this.target.running()) throw new ReloadRejected(['the gateway is not running (starting or stopping)']);
          await this.reload(loadConfigFile(file));
          this.reloads.inc({ result: 'applied' });
        } catch (err) {
          const problems = err instanceof ReloadRejected || err instanceof ConfigError ? err.problems : [errorMessage(err)];
          this.reloads.inc({ result: 'rejected' });
          logger.error({ file, problems }, 'reload rejected; keeping the running configuration');
        }
      },
      { logger, countFailure: (task) => metrics.backgroundErrors.inc({ task }) },
    );
  }

  /**
   * Applies a new config all-or-nothing (config/reload-plan.ts says what is live): validated
   * first, then the mapping and its grant re-derivation in one transaction, retried with backoff
   * while another connection holds the write lock; only then does anything in memory change.
   * Throws ReloadRejected, with the running config kept and nothing written, when it cannot apply.
   */
  async reload(next: Config): Promise<ReloadPlan> {
    const t = this.target;
    const plan = planReload(t.config, next);
    const problems = [...plan.problems];
    const tokens = this.readTokens(plan, problems);
    if (problems.length > 0) throw new ReloadRejected(problems);

    // A disconnected location's link stops first: nothing it fetches may land after its revoke.
    const { disconnect } = plan.locations;
    const detached = t.locationLinks && disconnect.length > 0 ? await t.locationLinks.detach(disconnect) : null;
    let revoked: RevokedLocation[] = [];
    try {
      // Doors first in the store (names, added and removed rows), then in the relay (commit).
      if (plan.changedResources.length > 0 || plan.doorsChanged || plan.locations.revoke.length > 0) revoked = await this.applyMappingRetrying(plan);
    } catch (err) {
      // The reason the reload failed is what the operator needs to read; a restore that fails too is logged beside it.
      await detached?.restore().catch((restoreErr: unknown) => t.logger.error({ err: errorMessage(restoreErr) }, 'a disconnected location\'s link could not be restarted after the failed reload; restart the gateway'));
      throw err;
    }
    t.commit(plan.config, tokens);
    for (const r of revoked) logRevoked(t.logger, r.location, r.counts);
    const guard = { logger: t.logger, countFailure: (task: string) => t.metrics.backgroundErrors.inc({ task }) };
    const mapping = t.upstreamMapping;
    if (mapping && plan.changedResources.length > 0) {
      // The grants are re-derived and committed already; this resubscribes and fetches new resources.
      await runGuarded('reload-resubscribe', () => mapping(plan.changedResources, plan.config), guard);
    }
    if (detached) await runGuarded('location-unsubscribe', () => detached.unsubscribe(), guard);
    t.logger.info({ applied: plan.live, restartNeeded: plan.restart, changedResources: plan.changedResources, ...plan.locations }, 'configuration reloaded');
    return plan;
  }

  /**
   * Every running or starting link's token, re-read on every reload, changed path or not:
   * replacing the file's content is how a token is rotated. A token file that cannot be read
   * refuses the reload (path-labelled into `problems`).
   */
  private readTokens(plan: ReloadPlan, problems: string[]): Map<string, string> {
    const tokens = new Map<string, string>();
    const declared = plan.config.locations !== undefined;
    for (const loc of siteLocations(plan.config)) {
      if (!loc.upstream || loc.connection !== 'connected') continue;
      // The implicit location's token is read only while its link runs (adding the platform needs a restart).
      if (!declared && !this.target.upstream) continue;
      const secret = resolveSecret(loc.upstream.token, loc.upstream.tokenFile);
      const path = declared ? `locations.${loc.id}.upstream.tokenFile` : 'upstream.tokenFile';
      if (secret && !secret.ok) problems.push(`${path}: ${secret.problem}`);
      else if (secret) tokens.set(loc.id, secret.text);
    }
    return tokens;
  }

  /**
   * The mapping transaction (store/reload-mapping.ts) on the reload writer's thread, retried
   * with backoff while another connection holds the write lock; resolves once the index has it.
   */
  private async applyMappingRetrying(plan: ReloadPlan): Promise<RevokedLocation[]> {
    const job = { config: plan.config, changedResources: plan.changedResources, revoke: plan.locations.revoke, now: this.target.clock.now() };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.target.reloadWrites.apply(job);
      } catch (err) {
        if (!isSqliteBusy(err) || attempt >= RELOAD_ATTEMPTS) throw err;
        const waitMs = backoffMs(attempt - 1, 250, 4000);
        this.target.logger.warn({ attempt, waitMs, err: errorMessage(err) }, 'reload attempt failed: the database is locked; retrying');
        await new Promise<void>((resolve) => this.target.clock.setTimeout(resolve, waitMs));
      }
    }
  }
}
