import { Worker } from 'node:worker_threads';
import { builtEntry } from '../util/worker-entry.js';
import { IndexCatchUp } from './applied-waiters.js';
import type { ReloadMappingJob, RevokedLocation } from './reload-mapping.js';

/*
 * Why a reload writes on a thread of its own. A reload's mapping transaction re-derives the
 * booking grants of every changed resource and may revoke a whole location: 83 ms of CPU for
 * 5,000 bookings, and the index refresh of every person it touched after that, all on the
 * thread that decides badges when it ran on the main connection. Here it runs in a one-shot
 * worker with its own connection; the index learns of the commit through the change log like
 * of any other writer's (the change watcher, rows of larger changes read by the refresh
 * worker), and the reload goes on only once the index has applied it, so doors know the new
 * mapping when the reload says it is done.
 */

export type ReloadMappingReply =
  | { ok: true; revoked: RevokedLocation[]; seq: number }
  | { ok: false; error: { message: string; code?: string } };

export class ReloadWrites {
  private readonly catchUp = new IndexCatchUp();

  constructor(private readonly site: { dbFile: string; key: Uint8Array }) {}

  /** The change watcher's (BackgroundPart): apply the log now, and wait until it has applied up to a mark. */
  onCommitted(listener: () => void, waitApplied: (seq: number, ms: number) => Promise<boolean>): void {
    this.catchUp.onCommitted(listener, waitApplied);
  }

  /**
   * Commits the job on the worker and resolves with what was revoked once the index has it.
   * Rejects with the worker's error, its SQLite code kept (a SQLITE_BUSY is retried by the reloader).
   */
  async apply(job: ReloadMappingJob): Promise<RevokedLocation[]> {
    const reply = await inWorker(this.site, job);
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), reply.error.code === undefined ? {} : { code: reply.error.code });
    await this.catchUp.reached(reply.seq);
    return reply.revoked;
  }
}

function inWorker(site: { dbFile: string; key: Uint8Array }, job: ReloadMappingJob): Promise<ReloadMappingReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(builtEntry('./reload-mapping-worker.js', import.meta.url), { workerData: { dbFile: site.dbFile, key: site.key, job } });
    let reply: ReloadMappingReply | undefined;
    worker.once('message', (m: ReloadMappingReply) => (reply = m));
    worker.once('error', reject);
    worker.once('exit', () => (reply === undefined ? reject(new Error('the reload worker ended without an answer')) : resolve(reply)));
  });
}
