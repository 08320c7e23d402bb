import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { sitePaths } from './config/site-paths.js';
import { allAuditRows, exportLine, pruneAudit } from './store/audit-retention.js';
import { openDatabase } from './store/db.js';
import { Store } from './store/store.js';

export const AUDIT_USAGE = 'usage: lintel audit export FILE.jsonl.gz [-c CONFIG] | lintel audit prune [-c CONFIG]';

/**
 * `lintel audit export FILE`: every row now in the audit log, in the archive's format
 * (gzip'd JSON Lines, no local ids), streamed so a large log is not held in memory. Read-only:
 * it deletes nothing. `lintel audit prune`: the retention run the gateway makes hourly, now.
 * Both are safe next to a running gateway (SQLite WAL: the export reads a snapshot).
 */
export async function auditCommand(sub: string | undefined, args: string[], store: Store, cfg: Config): Promise<string> {
  if (sub === 'export' && args[0] !== undefined) {
    const rows = await exportAll(store, args[0]);
    return `exported ${rows} audit rows to ${args[0]}`;
  }
  if (sub === 'prune' && args.length === 0) {
    const days = cfg.audit.retentionDays;
    if (days === 0) return 'audit.retentionDays is 0: the audit log is kept forever, nothing pruned';
    const archiveDir = sitePaths(cfg).auditArchive;
    const r = await pruneAudit(store, Date.now(), { retentionDays: days, archiveDir, maxBatches: Number.MAX_SAFE_INTEGER });
    return `pruned ${r.pruned} audit rows older than ${days} days into ${r.files.length} file${r.files.length === 1 ? '' : 's'} in ${archiveDir}`;
  }
  throw new AuditUsageError(AUDIT_USAGE);
}

export class AuditUsageError extends Error {}

/** The CLI's entry: opens the configured database for the one command and always closes it. */
export async function runAuditCommand(configFile: string, sub: string | undefined, args: string[]): Promise<string> {
  const cfg = loadConfigFile(configFile);
  const store = new Store(openDatabase(sitePaths(cfg).database));
  try {
    return await auditCommand(sub, args, store, cfg);
  } finally {
    store.close();
  }
}

async function exportAll(store: Store, file: string): Promise<number> {
  const gzip = createGzip();
  const out = createWriteStream(file, { mode: 0o600, flags: 'wx' }); // never overwrite an earlier export
  const finished = once(out, 'finish');
  const failed = once(out, 'error').then(([err]) => Promise.reject(err as Error));
  gzip.pipe(out);
  let rows = 0;
  for (const row of allAuditRows(store)) {
    rows++;
    if (!gzip.write(`${exportLine(row)}\n`)) await Promise.race([once(gzip, 'drain'), failed]);
  }
  gzip.end();
  await Promise.race([finished, failed]);
  return rows;
}
