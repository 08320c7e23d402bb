import { startBackgroundTasks, type BackgroundTasks } from '../background-tasks.js';
import type { FilesPart } from './files-part.js';
import type { Part, PartContext } from './part.js';
import type { StorePart } from './store-part.js';
import type { UpstreamPart } from './upstream-part.js';

/**
 * The timers beside the badge path (background-tasks.ts): other processes' commits, pruning,
 * audit retention, the link-file retry. Last in the list, so first to stop: no timer runs into
 * a part that is stopping.
 */
export class BackgroundPart implements Part {
  readonly name = 'background';
  readonly stopBoundMs = 100;
  private tasks: BackgroundTasks | null = null;

  constructor(
    private readonly files: FilesPart,
    private readonly store: StorePart,
    private readonly upstream: UpstreamPart,
  ) {}

  start(ctx: PartContext): void {
    const store = this.store;
    const tasks = (this.tasks = startBackgroundTasks({
      store: store.store,
      clock: ctx.clock,
      logger: ctx.logger,
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
      config: () => ctx.config(),
      index: () => store.index,
      swapIndex: (fresh) => store.swapIndex(fresh),
      newIndex: () => store.newIndex(),
      changeMark: store.site.changeMark,
      retryLinkFiles: () => this.files.retry(),
    }));
    // A thread of ours committed: applied now rather than at the next tick.
    this.upstream.onCommitted(() => tasks.changesCommitted());
    store.watchedBy(() => tasks.rebuildIndex(), () => tasks.appliedSeq());
  }

  stop(): void {
    this.tasks?.stop();
  }
}
