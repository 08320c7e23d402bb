import type { StatusPart } from '../status-builder.js';
import { bounded } from '../util/bounded.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { ConfigChange, Part, PartContext, PartRoutes } from './part.js';

/**
 * Starts a list of parts in order and stops them in reverse, the order that lets each part
 * rely on the ones before it for as long as it runs: the store outlives the readers that feed
 * it, the relay outlives the pipeline that pulses it.
 *
 * Stop never throws and never hangs past the parts' bounds: a part whose stop throws or times
 * out is logged and skipped, and the ones before it are still stopped (the store last, so it is
 * always closed). A start that throws stops what was started, the failing part included, and
 * rethrows the part's own error (the CLI maps some errors to their own exit codes).
 */
export class PartRunner {
  /** Parts whose start was called, in order: what stop() has to undo. */
  private readonly entered: Part[] = [];
  /** Parts whose start completed: the ones asked for status, routes and reloads. */
  private readonly running: Part[] = [];
  private readonly ctx: PartContext;
  private stopRequested = false;

  constructor(
    private readonly parts: readonly Part[],
    shared: Omit<PartContext, 'routes'>,
  ) {
    const names = new Set<string>();
    for (const p of parts) {
      if (names.has(p.name)) throw new Error(`two parts are named "${p.name}": logs and stop bounds would not say which`);
      names.add(p.name);
    }
    this.ctx = { ...shared, routes: () => this.routes() };
  }

  async startAll(): Promise<void> {
    for (const part of this.parts) {
      // A SIGTERM while a part was starting: what is left would start after the stop, and run on.
      if (this.stopRequested) throw new Error(`stopped while starting, before the ${part.name} part`);
      this.entered.push(part);
      try {
        await part.start(this.ctx);
      } catch (err) {
        this.ctx.logger.error({ part: part.name, err: errorMessage(err) }, 'part failed to start; stopping the parts that started');
        await this.stopAll();
        throw err;
      }
      this.running.push(part);
    }
  }

  /**
   * Idempotent: the second call finds nothing left to stop. A part leaves the running ones as
   * its stop begins, so /health during a stop shows what still runs (the store to the end).
   */
  async stopAll(): Promise<void> {
    const log: Logger = this.ctx.logger;
    this.stopRequested = true;
    for (const part of this.entered.splice(0).reverse()) {
      const i = this.running.indexOf(part);
      if (i >= 0) this.running.splice(i, 1);
      await bounded(part.name, () => part.stop(), part.stopBoundMs, log);
    }
  }

  /** What the running parts report, in start order. A status that throws is a failing check, not a 500. */
  status(): StatusPart[] {
    return this.running.flatMap((p): StatusPart[] => {
      if (!p.status) return [];
      try {
        return [p.status()];
      } catch (err) {
        return [{ checks: { [`part:${p.name}`]: { ok: false, detail: `status failed: ${errorMessage(err)}` } } }];
      }
    });
  }

  reloaded(change: ConfigChange): void {
    for (const p of this.running) p.reloaded?.(change);
  }

  private routes(): PartRoutes[] {
    return this.running.flatMap((p) => (p.routes ? [p.routes()] : []));
  }
}
