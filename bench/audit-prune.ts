/**
 * How long one audit retention batch holds the main thread (and the SQLite write lock): the
 * hourly housekeeping run exports and deletes in batches (500 rows by default), each one
 * transaction with a gzip and an fsync. Run: npm run build && node dist/bench/audit-prune.js [BATCH_ROWS]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, type AuditEntry } from '../src/store/audit.js';
import { pruneAudit } from '../src/store/audit-retention.js';
import { openDatabase } from '../src/store/db.js';
import { Store } from '../src/store/store.js';

const ROWS = 100_000;
const BATCH = Number(process.argv[2] ?? 1000);
const DAY = 86_400_000;
const now = Date.now();

const dir = mkdtempSync(join(tmpdir(), 'lintel-bench-prune-'));
try {
  const store = new Store(openDatabase(join(dir, 'lintel.db')));
  const audit = new AuditLog(store.db);
  const rows: AuditEntry[] = [];
  for (let i = 0; i < ROWS; i++) {
    rows.push({ at: now - 400 * DAY + i, readerId: `r${i % 20}`, doorId: 'front', credential: '*****61', personId: null, result: 'denied', reason: 'unknown_credential', relay: 'none' });
  }
  audit.appendMany(rows);
  const batchMs: number[] = [];
  for (;;) {
    const t0 = process.hrtime.bigint();
    const r = await pruneAudit(store, now, { retentionDays: 365, archiveDir: join(dir, 'audit-archive'), batchRows: BATCH, maxBatches: 1 });
    if (r.pruned === 0) break;
    batchMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  batchMs.sort((a, b) => a - b);
  const median = batchMs[Math.floor(batchMs.length / 2)]!;
  console.log(`audit prune: ${ROWS} rows in ${batchMs.length} batches of ${BATCH}; per batch median ${median.toFixed(1)} ms, max ${batchMs.at(-1)!.toFixed(1)} ms`);
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
