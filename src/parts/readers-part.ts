import type { Readable } from 'node:stream';
import type { ReaderConfig } from '../config/schema.js';
import { createReaders, type ReaderBindings } from '../readers/factory.js';
import type { ReaderSource } from '../readers/reader.js';
import type { StatusPart } from '../status-builder.js';
import { neverWaitForLocks } from '../store/db.js';
import type { DecisionsPart } from './decisions-part.js';
import type { Part, PartContext } from './part.js';
import type { StorePart } from './store-part.js';

export interface ReaderInputs {
  /** Hardware seams: tests inject a MockBinding or a recorded HID device. */
  bindings?: ReaderBindings;
  /** stdin in production; tests pass their own stream, the demo one per reader (it routes the console's lines). */
  stdin?: Readable | ((reader: ReaderConfig) => Readable);
}

/**
 * The card readers and QR scanners, late in the list: from their start on a badge gets a
 * decision, so everything a decision needs runs already, and the main thread never waits for a
 * SQLite lock again (a read must not queue behind a backup script's transaction).
 */
export class ReadersPart implements Part {
  readonly name = 'readers';
  readonly stopBoundMs = 1500;
  private sources: ReaderSource[] = [];

  constructor(
    private readonly store: StorePart,
    private readonly decisions: DecisionsPart,
    private readonly inputs: ReaderInputs,
  ) {}

  async start(ctx: PartContext): Promise<void> {
    neverWaitForLocks(this.store.store.db);
    const pipeline = this.decisions.pipeline;
    this.sources = createReaders(ctx.config().readers, {
      onLine: (reader: ReaderConfig, line: string) => pipeline.onLine(reader, line),
      clock: ctx.clock,
      logger: ctx.logger.child({ part: 'readers' }),
      bindings: this.inputs.bindings ?? {},
      stdin: this.inputs.stdin ?? process.stdin,
    });
    ctx.metrics.watchReaders(() => this.sources);
    for (const r of this.sources) await r.start();
  }

  /** All at once: one hung serial port must not leave the others reading. */
  async stop(): Promise<void> {
    const readers = this.sources.splice(0);
    await Promise.allSettled(readers.map((r) => r.stop()));
  }

  status(): StatusPart {
    return { readers: this.sources };
  }
}
