import type { Config } from './config/schema.js';
import { sitePaths } from './config/site-paths.js';
import { subjectHasher } from './qr/member-subject.js';
import { loadOrCreateTokenKey } from './qr/token-key.js';
import { openDatabase } from './store/db.js';
import { Store } from './store/store.js';
import type { SubjectHasher } from './store/subject-columns.js';

/** Where the site's member-token key lives (sitePaths): kept for the CLI's callers. */
export function tokenKeyFile(cfg: Config): string {
  return sitePaths(cfg).tokenKey;
}

/**
 * The gateway's store and token key, opened together: people are written with their member-token
 * subject (migration 8), so the store needs the key's hasher. A key that cannot be read closes
 * the database again: a failed start leaves nothing open.
 */
export function openSiteStore(cfg: Config): { store: Store; key: Buffer; subjects: SubjectHasher; dbFile: string } {
  const paths = sitePaths(cfg);
  const db = openDatabase(paths.database);
  try {
    const key = loadOrCreateTokenKey(paths.tokenKey);
    const subjects = subjectHasher(key);
    return { store: new Store(db, subjects), key, subjects, dbFile: paths.database };
  } catch (err) {
    db.close();
    throw err;
  }
}
