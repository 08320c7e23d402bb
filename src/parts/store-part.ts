import { openSiteStore } from '../site-store.js';
import type { StatusPart } from '../status-builder.js';
import { AuditLog } from '../store/audit.js';
import { startCheckpointer, type Checkpointer } from '../store/checkpointer.js';
import { syncFromConfig } from '../store/doors.js';
import { ReloadWrites } from '../store/reload-writes.js';
import type { Store } from '../store/store.js';
import type { SubjectHasher } from '../store/subject-columns.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { SYNC_STOP_BOUND_MS, type Part, type PartContext } from './part.js';

interface Opened {
  store: Store;
  audit: AuditLog;
  /** The member-token key and the subjects it hashes (site-store.ts). */
  key: Buffer;
  subjects: SubjectHasher;
  dbFile: string;
  /** Resources whose doors changed since the last run: their stored bookings are re-derived (index-part.ts). */
  changedResources: string[];
  /** A reload's mapping transaction, on a thread and connection of its own (store/reload-writes.ts). */
  reloadWrites: ReloadWrites;
}

/**
 * SQLite and the token key, first of all and closed last: every other part's stop can still
 * write to it. The config-owned doors and resource mapping are written here, before the index
 * is loaded from them. Its stop is the close, synchronous: the bound cannot cut it short.
 */
export class StorePart implements Part {
  readonly name = 'store';
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  private opened: Opened | null = null;
  private logger: Logger | null = null;

  start(ctx: PartContext): void {
    this.logger = ctx.logger;
    const cfg = ctx.config();
    const { store, key, subjects, dbFile } = openSiteStore(cfg);
    // Kept before anything below can throw: a failed start still closes the database.
    this.opened = { store, audit: new AuditLog(store.db), key, subjects, dbFile, changedResources: [], reloadWrites: new ReloadWrites({ dbFile, key }) };
    this.opened.changedResources = syncFromConfig(store, cfg);
  }

  get site(): Opened {
    if (!this.opened) throw new Error('the store part has not started');
    return this.opened;
  }

  get store(): Store {
    return this.site.store;
  }

  /** False once closed, and before it opened. */
  isOpen(): boolean {
    return this.opened?.store.db.open ?? false;
  }

  stop(): void {
    this.close();
  }

  /** Idempotent and synchronous: also the last resort of a process that is exiting. */
  close(): void {
    const store = this.opened?.store;
    if (!store?.db.open) return;
    try {
      store.close();
      this.logger?.info('store closed');
    } catch (err) {
      this.logger?.error({ err: errorMessage(err) }, 'store close failed');
    }
  }

  status(): StatusPart {
    return { dbOpen: this.isOpen() };
  }
}

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
