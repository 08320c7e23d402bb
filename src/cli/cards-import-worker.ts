import { parentPort, workerData } from 'node:worker_threads';
import { CardImportError } from '../store/card-import.js';
import { importWithConfig, type WorkerReply } from './cards-import.js';
import { withStoreAsync } from './cli-store.js';

/* The worker side of cards-import.ts: opens the store itself (a connection is per thread) and answers once. */

const { configFile, file } = workerData as { configFile: string; file: string };
let reply: WorkerReply;
try {
  reply = { ok: true, summary: await withStoreAsync(configFile, (store, cfg) => importWithConfig(store, cfg, file)) };
} catch (err) {
  const e = err as Error & { code?: string };
  reply = err instanceof CardImportError ? { ok: false, problems: err.problems, message: err.message } : { ok: false, message: e.message, code: e.code };
}
parentPort?.postMessage(reply);
