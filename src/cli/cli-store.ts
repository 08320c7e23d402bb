import { sitePaths } from '../config/site-paths.js';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { subjectHasher } from '../qr/member-subject.js';
import { loadOrCreateTokenKey } from '../qr/token-key.js';
import { tokenKeyFile } from '../site-store.js';
import { openDatabase } from '../store/db.js';
import { syncFromConfig } from '../store/doors.js';
import { Store } from '../store/store.js';
import type { SubjectHasher } from '../store/subject-columns.js';

/*
 * The database as a one-shot CLI command opens it: the configured file, doors kept in step with
 * the config, people written with their member-token subject. `configFile` is a resolved path.
 */

/** Opens the configured database for one CLI command, doors kept in step with the config. */
export function openCliStore(configFile: string): { store: Store; cfg: Config } {
  const cfg = loadConfigFile(configFile);
  const store = new Store(openDatabase(sitePaths(cfg).database), writerSubjects(cfg));
  try {
    syncFromConfig(store, cfg);
  } catch (err) {
    store.close();
    throw err;
  }
  return { store, cfg };
}

export function withStore<T>(configFile: string, fn: (store: Store, cfg: Config) => T): T {
  const { store, cfg } = openCliStore(configFile);
  try {
    return fn(store, cfg);
  } finally {
    store.close();
  }
}

/** withStore for a command that streams (cards import): the store closes when it is done, not when it starts. */
export async function withStoreAsync<T>(configFile: string, fn: (store: Store, cfg: Config) => Promise<T>): Promise<T> {
  const { store, cfg } = openCliStore(configFile);
  try {
    return await fn(store, cfg);
  } finally {
    store.close();
  }
}

/**
 * People the CLI writes carry their member-token subject (migration 8), so the gateway does not
 * compute a million HMACs at its next start. The key is the gateway's (created here if this is
 * the first program to need it, as `qr issue` does). A key that cannot be used is reported and
 * the rows are written without subjects: the gateway computes them, which is only slower.
 */
function writerSubjects(cfg: Config): SubjectHasher | undefined {
  try {
    return subjectHasher(loadOrCreateTokenKey(tokenKeyFile(cfg)));
  } catch (err) {
    console.error(`warning: ${(err as Error).message}; people are written without their member-token subject`);
    return undefined;
  }
}

