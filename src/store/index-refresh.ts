import { Worker } from 'node:worker_threads';
import type { AccessIndex } from '../access/access-index.js';
import { builtEntry } from '../util/worker-entry.js';
import type { Db } from './db.js';
import type { PackedPage, RefreshReply, RefreshRequest } from './index-load-format.js';
import { newScratch, PageFill } from './index-load-pages.js';
import { PEOPLE_PER_STEP, refreshPaced, type LoopSlice } from './index-rebuild.js';
import type { FailureCounter } from '../util/guarded.js';
import type { Logger } from '../util/log.js';

/*
 * Other connections' commits (an import, the API's writer thread, the upstream thread) name
 * people whose rows the index must read again. For more than a handful, the rows are read by a
 * worker with its own read-only connection (index-refresh-worker.ts) and come back packed; this
 * thread only fills them in, a few people per step. Consistency: the worker's read transaction
 * starts after the change-log mark the watcher applies up to was read, so its rows hold at least
 * everything up to that mark; a row newer than the mark is just newer, and the next poll applies
 * it again. The one hazard is the other way: a commit of this thread's own connection refreshes
 * its people synchronously (Store.onCommit), and the worker's rows may be older than that. So
 * people committed here while a page is on its way or being filled are skipped (`skip`): what the
 * index has for them was read after the worker's snapshot or is caught by the next poll.
 */

/** Below this many people the main thread reads them itself: a worker round trip costs more. */
export const WORKER_MIN_PEOPLE = 32;
/** People a request asks for: a page of ~10 ms of the worker's time, filled in ~4-person steps here. */
export const WORKER_CHUNK = 1000;

export interface RefreshedRows {
  page: PackedPage;
  /** Asked-for people the database no longer has. */
  missing: number[];
}

/** Where a watcher gets changed people's rows packed (RefreshReader; a test may wrap one). */
export interface RowsReader {
  /** Starts the worker now, so the first large change does not pay its start (a few ms of this thread) on the badge path. */
  warm?(): void;
  read(ids: number[], index: AccessIndex): Promise<RefreshedRows>;
  close(): Promise<void>;
}

/** The worker, started with the watcher (warm) and kept; a crashed one fails its requests and is started again at the next read. */
export class RefreshReader implements RowsReader {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (rows: RefreshedRows) => void; reject: (err: Error) => void }>();

  constructor(private readonly file: string) {}

  warm(): void {
    this.worker ??= this.spawn();
  }

  read(ids: number[], index: AccessIndex): Promise<RefreshedRows> {
    const worker = (this.worker ??= this.spawn());
    const req: RefreshRequest = { id: this.nextId++, ids, keyId: index.subjectKeyId ?? null, wantEmails: index.subjectOf !== undefined };
    return new Promise((resolve, reject) => {
      this.waiting.set(req.id, { resolve, reject });
      worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.failAll(new Error('index refresh worker stopped'));
    await worker?.terminate();
  }

  private spawn(): Worker {
    const worker = new Worker(builtEntry('./index-refresh-worker.js', import.meta.url), { workerData: this.file });
    // Never what keeps the process up: stop() terminates it, and a crash only fails requests.
    worker.unref();
    worker.on('message', (reply: RefreshReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (reply.kind === 'page') w.resolve({ page: reply.page, missing: reply.missing });
      else w.reject(new Error(`index refresh worker: ${reply.message}`));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      this.failAll(new Error(`index refresh worker exited (${code})`));
    });
    return worker;
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}

/**
 * Fills refreshed rows into the index, `step` people between two looks at the slice, then drops
 * the missing people; people in `skip` are left as the index has them. Returns false if the
 * database closed meanwhile (the gateway is stopping: nothing more to do).
 */
export async function fillRefreshed(rows: RefreshedRows, db: Db, index: () => AccessIndex, slice: LoopSlice, step: number, skip: ReadonlySet<number>): Promise<boolean> {
  if (!(await new PageFill(rows.page, db, index(), newScratch(), skip).paced(slice, step, () => !db.open))) return false;
  for (let i = 0; i < rows.missing.length; i += step) {
    await slice.pace();
    if (!db.open) return false;
    for (const id of rows.missing.slice(i, i + step)) if (!skip.has(id)) index().removePerson(id);
  }
  return true;
}

/**
 * The changed people of one poll into the index: on the worker when there are enough of them
 * and it works, else read here a step at a time (as before the worker). Owns the skip set.
 */
export class ChangedPeople {
  /** People whose rows a worker read. */
  workerPeople = 0;
  /** People this connection committed while a worker's rows are on their way or being filled. */
  private ownDuring: Set<number> | null = null;

  constructor(private readonly o: { db: Db; index: () => AccessIndex; reader: RowsReader | null; logger: Logger; countFailure?: FailureCounter }) {}

  warm(): void {
    this.o.reader?.warm?.();
  }

  close(): Promise<void> {
    return this.o.reader?.close() ?? Promise.resolve();
  }

  noteOwnCommit(people: Iterable<number>): void {
    if (this.ownDuring === null) return;
    for (const id of people) this.ownDuring.add(id);
  }

  /** Refreshes `ids`; false if the database closed meanwhile (the gateway is stopping). */
  async refresh(ids: number[], slice: LoopSlice): Promise<boolean> {
    const { reader, db, index } = this.o;
    if (reader !== null && ids.length >= WORKER_MIN_PEOPLE) {
      const skip = (this.ownDuring = new Set());
      try {
        const rows = await reader.read(ids, index());
        const filled = await fillRefreshed(rows, db, index, slice, PEOPLE_PER_STEP, skip);
        this.workerPeople += ids.length;
        return filled;
      } catch (err) {
        // The worker failed (or was stopped): these people are read here instead, nothing is lost.
        this.o.countFailure?.('index-refresh-worker');
        this.o.logger.warn({ err: (err as Error).message, people: ids.length }, 'index refresh worker failed; reading the changed people on the main thread');
      } finally {
        this.ownDuring = null;
      }
    }
    return refreshPaced(db, index, ids, slice);
  }
}
