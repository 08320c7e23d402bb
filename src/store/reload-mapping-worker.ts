import { parentPort, workerData } from 'node:worker_threads';
import { subjectHasher } from '../qr/member-subject.js';
import { readChangeMark } from './change-log.js';
import { openDatabase } from './db.js';
import { applyReloadMapping, type ReloadMappingJob } from './reload-mapping.js';
import type { ReloadMappingReply } from './reload-writes.js';
import { Store } from './store.js';
import { lowerOwnPriority } from '../util/priority.js';

/*
 * The worker side of reload-writes.ts: one reload's mapping transaction on a connection of its
 * own, then one answer. Niced like the bulk worker: the badge path keeps the CPU it needs. Its
 * busy wait is short on purpose: the reloader retries a locked database with backoff and gives
 * up after a few attempts, as it did on the main connection.
 */

/** Long enough for the upstream thread's few-millisecond commits, short enough that the reloader's backoff decides. */
const BUSY_WAIT_MS = 200;

lowerOwnPriority();
const { dbFile, key, job } = workerData as { dbFile: string; key: Uint8Array; job: ReloadMappingJob };
let reply: ReloadMappingReply;
let store: Store | null = null;
try {
  store = new Store(openDatabase(dbFile), subjectHasher(Buffer.from(key)));
  store.db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
  const revoked = applyReloadMapping(store, job);
  reply = { ok: true, revoked, seq: readChangeMark(store.db).seq };
} catch (err) {
  const e = err as Error & { code?: unknown };
  reply = { ok: false, error: { message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
} finally {
  store?.close();
}
parentPort?.postMessage(reply);
