import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../util/log.js';
import type { Db } from './db.js';

/*
 * WAL checkpoints fsync the database. Left to SQLite's auto-checkpoint they run inside whichever
 * commit crosses the threshold — on the main thread, stalling badge decisions for tens of ms
 * every few hundred audit rows. A worker thread with its own connection checkpoints instead
 * (PASSIVE: never waits for, nor blocks, the writer). The main connection keeps a large
 * auto-checkpoint as a backstop, so the WAL stays bounded even if the worker dies.
 */

export const BACKSTOP_AUTOCHECKPOINT_PAGES = 10_000;

// CommonJS source for an eval'd worker: runs the same under vitest (TypeScript sources) and
// from dist/, without a separate entry file to locate.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const run = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err && err.message || err) });
  }
};
const timer = setInterval(run, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { clearInterval(timer); db.close(); process.exit(0); }
});
`;

/** How long stop() lets the worker finish a checkpoint in progress before it is terminated. */
export const STOP_GRACE_MS = 2000;

export interface Checkpointer {
  /** Never hangs: 'stopped' when the worker closed its connection itself, else 'terminated'. */
  stop(): Promise<'stopped' | 'terminated'>;
}

export interface CheckpointerOptions {
  stopGraceMs?: number;
  /** Replaces the worker's code (tests: a worker that ignores the stop message). */
  workerSource?: string;
}

export function startCheckpointer(db: Db, file: string, logger: Logger, everyMs = 2000, options: CheckpointerOptions = {}): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(options.workerSource ?? WORKER_SOURCE, { eval: true, workerData: { file, everyMs, driver } });
  worker.unref();
  // A worker that already died emits no second 'exit': stop() must not wait for one.
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  let stopping: Promise<'stopped' | 'terminated'> | null = null;
  let failures = 0;
  worker.on('message', (m: { ok: boolean; error?: string }) => {
    if (m.ok) failures = 0;
    else if (failures++ === 0) logger.warn({ err: m.error }, 'WAL checkpoint failed; the backstop auto-checkpoint still bounds the WAL');
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'checkpoint worker died; the backstop auto-checkpoint takes over'));
  const stop = async (): Promise<'stopped' | 'terminated'> => {
    if (exited) return 'terminated';
    worker.postMessage('stop');
    // A checkpoint is one bounded fsync; a worker still busy after the grace is stuck, and SIGTERM
    // must still close the store. Terminating loses nothing: the WAL keeps every committed frame.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), options.stopGraceMs ?? STOP_GRACE_MS)));
    const outcome = await Promise.race([exit.then(() => 'exited' as const), late]);
    clearTimeout(timer);
    if (outcome === 'exited') return 'stopped';
    logger.warn('checkpoint worker did not stop in time; terminated');
    await worker.terminate().catch(() => undefined);
    return 'terminated';
  };
  return { stop: () => (stopping ??= stop()) };
}
