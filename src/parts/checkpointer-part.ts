import { startCheckpointer, type Checkpointer } from '../store/checkpointer.js';
import type { Part, PartContext } from './part.js';
import type { StorePart } from './store-part.js';

/**
 * The WAL checkpoints, in a worker beside the store (store/checkpointer.ts). A part of its own,
 * right after the store: stopped just before it, and its stop (which may wait on a checkpoint in
 * progress) bounded on its own, so a slow one never costs the store its clean close.
 */
export class CheckpointerPart implements Part {
  readonly name = 'checkpointer';
  readonly stopBoundMs = 2000;
  private checkpointer: Checkpointer | null = null;

  constructor(private readonly store: StorePart) {}

  start(ctx: PartContext): void {
    const { store, dbFile } = this.store.site;
    this.checkpointer = startCheckpointer(store.db, dbFile, ctx.logger.child({ part: 'store' }));
  }

  async stop(): Promise<void> {
    const checkpointer = this.checkpointer;
    this.checkpointer = null;
    await checkpointer?.stop();
  }
}
