import { statSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { CardImportError, importCardFile, type ImportSummary } from '../store/card-import.js';
import type { Store } from '../store/store.js';
import { withStoreAsync } from './cli-store.js';
import { lowerOwnPriority } from '../util/priority.js';
import { CHANNEL_BYTES, markParserGone, markWriterGone } from './cards-import-channel.js';
import type { ParseSetup } from './cards-import-parse-worker.js';

/*
 * `lintel cards import FILE` runs in two worker threads, one parsing and one writing at the
 * same time (inWorker below, store/card-stream.ts), each with its old generation bounded. The
 * validated columns of a million rows are ~290 MB live; with V8's default heap headroom the
 * process peaked near 700 MB, collecting only when it had to. Bounded near what the file needs,
 * the same import peaks under 500 MB for about the same CPU (BENCHMARKS.md, issue 10). A file
 * whose rows need more than the bound (long door lists) fails that attempt before anything is
 * committed, and runs again here without the bound: slower to collect, never refused.
 */

/** About 6 MB of live columns per MB of the bench's CSV (a million rows: 45 MB, ~265 MB); 7 leaves room, 256 MB is the floor. */
export function importHeapLimitMb(fileBytes: number): number {
  return Math.max(256, Math.ceil((fileBytes / 1048576) * 7) + 32);
}

/**
 * The configuration's access-group ids, which the card list's `groups` column may name. Read
 * by shape (a map keyed by id, or a list of { id }) so that this works with whichever form
 * the schema's accessGroups takes; undefined for a configuration without them, and then the
 * import refuses every group id with its line number.
 */
export function configuredAccessGroups(cfg: object): ReadonlySet<string> | undefined {
  const groups = (cfg as { accessGroups?: unknown }).accessGroups;
  if (groups === undefined || groups === null || typeof groups !== 'object') return undefined;
  if (!Array.isArray(groups)) return new Set(Object.keys(groups));
  return new Set(groups.map((g) => (g as { id?: unknown }).id).filter((id): id is string => typeof id === 'string'));
}

/** One import with the configuration's groups: the worker's job, and the fallback's. */
export function importWithConfig(store: Store, cfg: Config, file: string): Promise<ImportSummary> {
  return importCardFile(store, file, Date.now(), { knownGroups: configuredAccessGroups(cfg) });
}

export type WorkerReply = { ok: true; summary: ImportSummary } | { ok: false; problems?: string[]; message: string; code?: string };

/** `heapMb`: the worker's bound, by default from the file's size. */
export async function runCardsImport(configFile: string, file: string, heapMb?: number): Promise<ImportSummary> {
  loadConfigFile(configFile); // an invalid config is reported here, as a ConfigError, as for every command
  // An import on the door controller takes the CPU the badge path leaves: the worker below
  // inherits this thread's nice value (util/priority.ts).
  lowerOwnPriority();
  const limit = heapMb ?? importHeapLimitMb(statSync(file).size);
  try {
    return await inWorker(configFile, file, limit);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_WORKER_OUT_OF_MEMORY') throw err;
    console.error(`note: the import needed more than ${limit} MB of heap; nothing was written, running it again without that bound`);
    return withStoreAsync(configFile, (store, cfg) => importWithConfig(store, cfg, file));
  }
}

/**
 * Two workers: the writer (cards-import-worker.ts) opens the store and says what the parser
 * needs; the parser (cards-import-parse-worker.ts) then streams batches straight to it over a
 * MessageChannel. This thread only watches: it tells the writer when the parser is gone, and
 * answers with the writer's reply, or with the parser's own failure (running out of heap).
 */
function inWorker(configFile: string, file: string, maxOldGenerationSizeMb: number): Promise<ImportSummary> {
  return new Promise((resolve, reject) => {
    const shared = new SharedArrayBuffer(CHANNEL_BYTES);
    const { port1, port2 } = new MessageChannel();
    const writer = new Worker(new URL('./cards-import-worker.js', import.meta.url), {
      workerData: { configFile, port: port2, shared },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb },
    });
    let parser: Worker | undefined;
    let parserError: Error | undefined;
    let writerError: Error | undefined;
    let reply: WorkerReply | undefined;
    writer.on('message', (m: WorkerReply | { setup: Omit<ParseSetup, 'file' | 'port' | 'shared'> }) => {
      if (!('setup' in m)) return void (reply = m);
      parser = new Worker(new URL('./cards-import-parse-worker.js', import.meta.url), {
        workerData: { ...m.setup, file, port: port1, shared } satisfies ParseSetup,
        transferList: [port1],
        resourceLimits: { maxOldGenerationSizeMb },
      });
      parser.once('error', (err) => (parserError = err));
      parser.once('exit', () => markParserGone(shared));
    });
    writer.once('error', (err) => (writerError = err));
    writer.once('exit', () => {
      markWriterGone(shared);
      void parser?.terminate();
      // The parser's failure is the cause of the writer's ("ended without an answer").
      const failure = parserError ?? writerError;
      if (failure !== undefined && (reply === undefined || !reply.ok)) return reject(failure);
      if (reply === undefined) return reject(new Error('the import worker ended without an answer'));
      if (reply.ok) return resolve(reply.summary);
      if (reply.problems) return reject(new CardImportError(reply.problems));
      reject(Object.assign(new Error(reply.message), { code: reply.code }));
    });
  });
}
