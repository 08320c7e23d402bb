import { createHash } from 'node:crypto';
import type { Db } from './db.js';
import { isSqliteBusy } from './sqlite-busy.js';
import type { VisitInfo, VisitStatus } from '../upstream/visit-lookup.js';

/*
 * The platform's last answer per visitor code (table `visits`, migration 3), used only while
 * the platform cannot be reached. Keyed by sha256 of the code: the code opens doors, the hash
 * does not, so a copied database file hands out no visitor codes. A row lives until its
 * visit's validTo; expired rows are pruned.
 */

export interface CachedVisit {
  visitId: string;
  status: VisitStatus;
  validFrom: number;
  validTo: number;
  fetchedAt: number;
}

interface VisitSql {
  visit_id: string;
  status: string;
  valid_from: number;
  valid_to: number;
  fetched_at: number;
}

const STATUSES: ReadonlySet<string> = new Set<VisitStatus>(['expected', 'checked_in', 'checked_out', 'cancelled']);
/** Pruning is a cheap indexed delete, but once a minute is plenty. */
const PRUNE_EVERY_MS = 60_000;

export function visitCodeHash(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

export class VisitCache {
  private readonly upsert;
  private readonly select;
  private readonly remove;
  private readonly prune;
  private lastPrune = Number.NEGATIVE_INFINITY;
  /**
   * Codes whose delete met another process's write lock (the gateway's connection never waits):
   * treated as absent, so a stale answer cannot grant offline, and deleted on the next write.
   */
  private readonly forgotten = new Set<string>();

  constructor(db: Db) {
    // Single statements, each atomic; no person, grant or door changes, so the index needs no
    // notification and Store.transact would add nothing.
    this.upsert = db.prepare(
      `INSERT INTO visits (code_hash, visit_id, status, visitor_email, valid_from, valid_to, fetched_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(code_hash) DO UPDATE SET visit_id = excluded.visit_id, status = excluded.status,
         visitor_email = excluded.visitor_email, valid_from = excluded.valid_from, valid_to = excluded.valid_to,
         fetched_at = excluded.fetched_at`,
    );
    this.select = db.prepare('SELECT visit_id, status, valid_from, valid_to, fetched_at FROM visits WHERE code_hash = ? AND valid_to > ?');
    this.remove = db.prepare('DELETE FROM visits WHERE code_hash = ?');
    this.prune = db.prepare('DELETE FROM visits WHERE valid_to <= ?');
  }

  /** Remembers an answer until the visit's validTo; an answer already past it is not kept. */
  put(code: string, visit: VisitInfo, now: number): void {
    const hash = visitCodeHash(code);
    if (visit.validTo <= now) {
      this.forgetHash(hash);
      return;
    }
    // A cache write that meets the lock is skipped: the live answer decides, the cache only helps offline.
    if (!this.write(() => this.upsert.run(hash, visit.visitId, visit.status, visit.visitorEmail, visit.validFrom, visit.validTo, now))) return;
    this.forgotten.delete(hash);
    this.retryForgets();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) this.write(() => this.pruneExpired(now));
  }

  get(code: string, now: number): CachedVisit | undefined {
    if (this.forgotten.has(visitCodeHash(code))) return undefined;
    const row = this.select.get(visitCodeHash(code), now) as VisitSql | undefined;
    if (row === undefined || !STATUSES.has(row.status)) return undefined;
    return {
      visitId: row.visit_id,
      status: row.status as VisitStatus,
      validFrom: row.valid_from,
      validTo: row.valid_to,
      fetchedAt: row.fetched_at,
    };
  }

  /** The platform no longer knows the code: forget what we cached for it. */
  forget(code: string): void {
    this.retryForgets();
    this.forgetHash(visitCodeHash(code));
  }

  private forgetHash(hash: string): void {
    if (this.write(() => this.remove.run(hash))) this.forgotten.delete(hash);
    else this.forgotten.add(hash);
  }

  private retryForgets(): void {
    for (const hash of this.forgotten) if (!this.write(() => this.remove.run(hash))) return;
    this.forgotten.clear();
  }

  /** false when another connection holds the write lock; any other error is thrown. */
  private write(fn: () => unknown): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      if (isSqliteBusy(err)) return false;
      throw err;
    }
  }

  pruneExpired(now: number): number {
    this.lastPrune = now;
    return this.prune.run(now).changes;
  }
}
