import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DbHolder, Store } from './store.js';

export interface AuditRetentionOptions {
  /** Rows older than this many days are exported and pruned; 0 keeps everything. */
  retentionDays: number;
  /** dataDir/audit-archive: one gzip'd JSON Lines file per batch. */
  archiveDir: string;
  /** Rows per file and per transaction: bounds how long one run holds the write lock. */
  batchRows?: number;
  /** Batches per run; the next housekeeping run continues where this one stopped. */
  maxBatches?: number;
}

export interface AuditPruneResult {
  pruned: number;
  files: string[];
}

const DAY_MS = 86_400_000;
/**
 * 500 rows: one batch (select, gzip, fsync, delete, commit) holds the main thread for a median
 * 5 ms, max 11 ms on the reference VM (bench/audit-prune.ts; 5,000 rows took up to 58 ms).
 */
const DEFAULT_BATCH_ROWS = 500;
const DEFAULT_MAX_BATCHES = 200;

/** Lets queued badge reads, timers and I/O run between two batches. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface ExportRow {
  id: number;
  at: number;
  reader_id: string | null;
  door_id: string | null;
  credential: string | null;
  email: string | null;
  result: string;
  reason: string;
  relay: string | null;
  count: number;
}

/** The columns an export carries, the person joined by email; callers add WHERE / ORDER / LIMIT. */
export const EXPORT_SELECT = `SELECT a.id, a.at, a.reader_id, a.door_id, a.credential, p.email, a.result, a.reason, a.relay, a.count
  FROM audit a LEFT JOIN people p ON p.id = a.person_id`;

/** Every audit row in export order, streamed (`lintel audit export`): the CLI never holds the handle. */
export function allAuditRows({ db }: DbHolder): IterableIterator<ExportRow> {
  return db.prepare(`${EXPORT_SELECT} ORDER BY a.id`).iterate() as IterableIterator<ExportRow>;
}

/**
 * What leaves the gateway in an archive: no local row ids (neither the audit id nor
 * people.id mean anything elsewhere), the person by email, times in RFC 3339.
 */
export function exportLine(r: ExportRow): string {
  return JSON.stringify({
    at: new Date(r.at).toISOString(),
    reader: r.reader_id,
    door: r.door_id,
    credential: r.credential,
    person: r.email,
    result: r.result,
    reason: r.reason,
    relay: r.relay,
    count: r.count,
  });
}

/** Written to a temporary name, fsynced, renamed, and the directory fsynced: the file is whole on disk before anything is deleted. */
function writeDurably(dir: string, name: string, data: Buffer): void {
  const tmp = join(dir, `.${name}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/**
 * Exports audit rows older than the retention to the archive, then deletes exactly those,
 * batch by batch. Each batch is one transaction: select, write the file durably, insert the
 * permit the delete trigger asks for (migration 7), delete, drop the permit, record the file
 * in audit_exports, commit. If anything fails the transaction rolls back and the file is
 * removed: nothing is deleted that was not exported. A crash between the file's rename and the
 * commit leaves a file whose rows are still in the table; the next run exports them again
 * (a duplicate in the archive, never a loss).
 *
 * Runs from the housekeeping timer, on the main thread like the rest of housekeeping, in small
 * batches with the event loop let through between them, so a badge read waits at most one
 * batch (see DEFAULT_BATCH_ROWS). A run does at most maxBatches; the next run continues.
 */
export async function pruneAudit(store: Store, now: number, options: AuditRetentionOptions): Promise<AuditPruneResult> {
  const result: AuditPruneResult = { pruned: 0, files: [] };
  if (options.retentionDays <= 0) return result;
  const cutoff = now - options.retentionDays * DAY_MS;
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const maxBatches = options.maxBatches ?? DEFAULT_MAX_BATCHES;
  const select = store.db.prepare(`${EXPORT_SELECT} WHERE a.at < ? ORDER BY a.id LIMIT ?`);
  for (let batch = 0; batch < maxBatches; batch++) {
    if (batch > 0) await yieldToEventLoop();
    let written: string | null = null;
    try {
      const done = store.transact((tx) => {
        const rows = select.all(cutoff, batchRows) as ExportRow[];
        if (rows.length === 0) return 0;
        const first = rows[0]!;
        const last = rows[rows.length - 1]!;
        const data = gzipSync(Buffer.from(`${rows.map(exportLine).join('\n')}\n`, 'utf8'));
        const name = `audit-${stamp(first.at)}-${stamp(last.at)}-${stamp(now)}-${batch}.jsonl.gz`;
        mkdirSync(options.archiveDir, { recursive: true, mode: 0o700 });
        writeDurably(options.archiveDir, name, data);
        written = name;
        tx.db.prepare('INSERT INTO audit_prune_permit (id, up_to_id, before_at) VALUES (1, ?, ?)').run(last.id, cutoff);
        const deleted = tx.db.prepare('DELETE FROM audit WHERE id <= ? AND at < ?').run(last.id, cutoff).changes;
        tx.db.prepare('DELETE FROM audit_prune_permit').run();
        if (deleted !== rows.length) throw new Error(`audit prune: exported ${rows.length} rows but ${deleted} matched the delete`);
        tx.db
          .prepare('INSERT INTO audit_exports (file, rows, first_at, last_at, sha256, exported_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(name, rows.length, first.at, last.at, createHash('sha256').update(data).digest('hex'), now);
        return rows.length;
      });
      if (done === 0) break;
      result.pruned += done;
      result.files.push(written!);
      if (done < batchRows) break;
    } catch (err) {
      if (written !== null) rmSync(join(options.archiveDir, written), { force: true });
      throw err;
    }
  }
  return result;
}
