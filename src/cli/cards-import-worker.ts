import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { tokenKeyId } from '../qr/member-subject.js';
import { loadOrCreateTokenKey } from '../qr/token-key.js';
import { tokenKeyFile } from '../site-store.js';
import { CardImportError, knownDoors } from '../store/card-import.js';
import { applyCardStream } from '../store/card-stream.js';
import { BatchReceiver } from './cards-import-channel.js';
import { configuredAccessGroups, type WorkerReply } from './cards-import.js';
import { withStoreAsync } from './cli-store.js';

/*
 * The writing thread of `lintel cards import` (cards-import.ts): opens the store itself (a
 * connection is per thread), tells the CLI what the parsing thread needs (the doors, the groups,
 * the token key), applies its batches in one transaction (store/card-stream.ts), answers once.
 */

const { configFile, port, shared } = workerData as { configFile: string; port: MessagePort; shared: SharedArrayBuffer };
const receiver = new BatchReceiver(port, shared);
let reply: WorkerReply;
try {
  const summary = await withStoreAsync(configFile, (store, cfg) => {
    const groups = configuredAccessGroups(cfg);
    parentPort?.postMessage({ setup: { doors: [...knownDoors(store)], groups: groups === undefined ? null : [...groups], key: writerKey(store.subjects?.keyId, cfg) } });
    return Promise.resolve(applyCardStream(store, () => receiver.next(), Date.now()));
  });
  reply = { ok: true, summary };
} catch (err) {
  const e = err as Error & { code?: string };
  reply = err instanceof CardImportError ? { ok: false, problems: err.problems, message: err.message } : { ok: false, message: e.message, code: e.code };
} finally {
  receiver.close();
}
parentPort?.postMessage(reply);

/** The store's token key (already loaded or created by openCliStore), for the parsing thread to hash with; null when the store writes no subjects. */
function writerKey(keyId: number | undefined, cfg: Parameters<typeof tokenKeyFile>[0]): Uint8Array | null {
  if (keyId === undefined) return null;
  try {
    const key = loadOrCreateTokenKey(tokenKeyFile(cfg));
    return tokenKeyId(key).readUInt32BE(0) === keyId ? new Uint8Array(key) : null;
  } catch {
    return null; // the writer computes the subjects itself
  }
}
