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

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(db: Db, file: string, logger: Logger, everyMs = 2000): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, everyMs, driver } });
  worker.unref();
  let failures = 0;
  worker.on('message', (m: { ok: boolean; error?: string }) => {
    if (m.ok) failures = 0;
    else if (failures++ === 0) logger.warn({ err: m.error }, 'WAL checkpoint failed; the backstop auto-checkpoint still bounds the WAL');
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'checkpoint worker died; the backstop auto-checkpoint takes over'));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
      }),
  };
}
