import { startBackgroundTasks, type BackgroundTasks } from '../background-tasks.js';
import type { FilesPart } from './files-part.js';
import { SYNC_STOP_BOUND_MS, type Part, type PartContext } from './part.js';
import type { IndexPart } from './index-part.js';
import type { StorePart } from './store-part.js';
import type { UpstreamPart } from './upstream-part.js';

/**
 * The timers beside the badge path (background-tasks.ts): other processes' commits, pruning,
 * audit retention, the link-file retry. Last in the list, so first to stop: no timer runs into
 * a part that is stopping.
 */
export class BackgroundPart implements Part {
  readonly name = 'background';
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  private tasks: BackgroundTasks | null = null;

  constructor(
    private readonly files: FilesPart,
    private readonly store: StorePart,
    private readonly index: IndexPart,
    private readonly upstream: UpstreamPart,
    /** Parts whose own threads commit on other connections (the API's bulk), told like the upstream thread. */
    private readonly committers: readonly { onCommitted(listener: () => void, waitApplied: (seq: number, ms: number) => Promise<boolean>): void }[] = [],
  ) {}

  start(ctx: PartContext): void {
    const index = this.index;
    const tasks = (this.tasks = startBackgroundTasks({
      store: this.store.store,
      clock: ctx.clock,
      logger: ctx.logger,
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
      config: () => ctx.config(),
      index: () => index.index,
      swapIndex: (fresh) => index.swapIndex(fresh),
      newIndex: () => index.newIndex(),
      siteChanged: () => index.siteChanged(),
      changeMark: index.changeMark,
      retryLinkFiles: () => this.files.retry(),
    }));
    // A thread of ours committed: applied now rather than at the next tick.
    this.upstream.onCommitted(() => tasks.changesCommitted());
    // Their writers wait for the index to have the commit: read the log at once.
    for (const c of this.committers) c.onCommitted(() => tasks.changesCommitted(0), (seq, ms) => tasks.waitApplied(seq, ms));
    index.watchedBy(() => tasks.rebuildIndex(), () => tasks.appliedSeq());
  }

  stop(): void {
    this.tasks?.stop();
  }
}
