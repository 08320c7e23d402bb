import { join } from 'node:path';
import type { Config } from './config/schema.js';
import { subjectHasher } from './qr/member-subject.js';
import { loadOrCreateTokenKey } from './qr/token-key.js';
import { openDatabase } from './store/db.js';
import { Store } from './store/store.js';
import type { SubjectHasher } from './store/subject-columns.js';

/** Where the site's member-token key lives: configured, or beside the database. */
export function tokenKeyFile(cfg: Config): string {
  return cfg.qr.keyFile ?? join(cfg.dataDir, 'qr-token.key');
}

/** The access index's snapshot of the last clean stop (src/store/index-snapshot.ts), beside the database. */
export function indexSnapshotFile(cfg: Config): string {
  return join(cfg.dataDir, 'lintel.index');
}

/**
 * The gateway's store and token key, opened together: people are written with their member-token
 * subject (migration 8), so the store needs the key's hasher. A key that cannot be read closes
 * the database again: a failed start leaves nothing open.
 */
export function openSiteStore(cfg: Config): { store: Store; key: Buffer; subjects: SubjectHasher; dbFile: string } {
  const dbFile = join(cfg.dataDir, 'lintel.db');
  const db = openDatabase(dbFile);
  try {
    const key = loadOrCreateTokenKey(tokenKeyFile(cfg));
    const subjects = subjectHasher(key);
    return { store: new Store(db, subjects), key, subjects, dbFile };
  } catch (err) {
    db.close();
    throw err;
  }
}
