import { Counter } from 'prom-client';
import { ConfigError, loadConfigFile } from './config/load.js';
import { planReload, type ReloadPlan } from './config/reload-plan.js';
import type { Config } from './config/schema.js';
import { resolveSecret } from './config/secret-files.js';
import type { Metrics } from './metrics.js';
import { syncFromConfig } from './store/doors.js';
import { isSqliteBusy } from './store/sqlite-busy.js';
import type { Store } from './store/store.js';
import { rederiveFromConfig } from './upstream/booking-apply.js';
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
  readonly store: Store;
  readonly upstream: UpstreamLink | null;
  /** Every running platform link told of a mapping change, each of its own location's resources; null: no link runs. */
  readonly upstreamMapping: ((changed: string[], config: Config) => Promise<void>) | null;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** False while starting or stopping: a reload then is refused, not half-applied. */
  running(): boolean;
  /** Called once the new mapping is committed: the new running config (its doors go to the relay), and the token when re-read. */
  commit(config: Config, token: string | null): void;
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
    let token: string | null = null;
    if (plan.config.upstream && t.upstream) {
      // Re-read on every reload, changed path or not: replacing the file's content is how a token is rotated.
      const secret = resolveSecret(plan.config.upstream.token, plan.config.upstream.tokenFile);
      if (secret && !secret.ok) problems.push(`upstream.tokenFile: ${secret.problem}`);
      else if (secret) token = secret.text;
    }
    if (problems.length > 0) throw new ReloadRejected(problems);

    // Doors first in the store (names, added and removed rows), then in the relay (commit).
    if (plan.changedResources.length > 0 || plan.doorsChanged) await this.applyMappingRetrying(plan);
    t.commit(plan.config, token);
    const mapping = t.upstreamMapping;
    if (mapping && plan.changedResources.length > 0) {
      // The grants are re-derived and committed already; this resubscribes and fetches new resources.
      await runGuarded('reload-resubscribe', () => mapping(plan.changedResources, plan.config), {
        logger: t.logger,
        countFailure: (task) => t.metrics.backgroundErrors.inc({ task }),
      });
    }
    t.logger.info({ applied: plan.live, restartNeeded: plan.restart, changedResources: plan.changedResources }, 'configuration reloaded');
    return plan;
  }

  private async applyMappingRetrying(plan: ReloadPlan): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.applyMapping(plan);
        return;
      } catch (err) {
        if (!isSqliteBusy(err) || attempt >= RELOAD_ATTEMPTS) throw err;
        const waitMs = backoffMs(attempt - 1, 250, 4000);
        this.target.logger.warn({ attempt, waitMs, err: errorMessage(err) }, 'reload attempt failed: the database is locked; retrying');
        await new Promise<void>((resolve) => this.target.clock.setTimeout(resolve, waitMs));
      }
    }
  }

  /**
   * One transaction: the running doors mapped to the new resources, and the booking grants of
   * the changed resources re-derived. Both helpers' own transactions nest as savepoints, so a
   * SQLITE_BUSY (or any failure) anywhere rolls both back: no partial write.
   */
  private applyMapping(plan: ReloadPlan): void {
    const { store, clock } = this.target;
    const cfg = plan.config;
    store.transact(() => {
      syncFromConfig(store, cfg);
      rederiveFromConfig(store, cfg, plan.changedResources, clock.now());
    });
  }
}
