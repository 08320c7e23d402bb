import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import type { Decision } from '../../src/access/types.js';
import { loadIndex } from '../../src/store/index-loader.js';

/*
 * The test's own connection to the gateway's SQLite file, as an operator's `sqlite3` would
 * have: it reads what is committed, checks the file, and rebuilds the access index the way a
 * restart would, so the running gateway can be compared with "what SQLite says".
 * It never writes; the file stays the gateway's.
 */

export interface AuditRowLite {
  id: number;
  at: number;
  reader_id: string | null;
  door_id: string | null;
  result: string;
  reason: string;
  relay: string | null;
}

export class SqliteProbe {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    this.db = new Database(file, { fileMustExist: true });
    // Waiting is right here: the probe is not on a badge path, and the gateway may be mid-commit.
    this.db.pragma('busy_timeout = 5000');
  }

  /** `PRAGMA integrity_check`: 'ok' or the first problems SQLite reports. */
  integrity(): string {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  }

  /** A fresh index from what is committed now (the code path a restart takes). */
  rebuildIndex(): AccessIndex {
    const index = new AccessIndex();
    loadIndex(this.db, index);
    return index;
  }

  expectedDecision(card: string, door: string, at = Date.now()): Decision {
    return decideCard(this.rebuildIndex(), card, door, at);
  }

  maxAuditId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS n FROM audit').get() as { n: number }).n;
  }

  auditCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
  }

  auditAfter(id: number): AuditRowLite[] {
    return this.db.prepare('SELECT id, at, reader_id, door_id, result, reason, relay FROM audit WHERE id > ? ORDER BY id').all(id) as AuditRowLite[];
  }

  /** Count and hash of every audit row up to `maxId`: equal digests mean none lost or changed. */
  auditDigest(maxId: number): { rows: number; sha256: string } {
    const h = createHash('sha256');
    let rows = 0;
    for (const r of this.db.prepare('SELECT * FROM audit WHERE id <= ? ORDER BY id').iterate(maxId)) {
      h.update(JSON.stringify(r));
      rows++;
    }
    return { rows, sha256: h.digest('hex') };
  }

  /** Hash of everything that decides access (people, cards, grants, doors, mapping). */
  stateDigest(): string {
    const h = createHash('sha256');
    for (const t of ['people', 'credentials', 'grants', 'doors', 'resource_doors', 'appointments', 'upstream_subscriptions']) {
      for (const r of this.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).iterate()) h.update(`${t}:${JSON.stringify(r)}`);
    }
    return h.digest('hex');
  }

  credentialNumbers(): Set<string> {
    return new Set((this.db.prepare('SELECT number FROM credentials').pluck().all() as string[]));
  }

  bookingGrantSources(): Set<string> {
    return new Set(this.db.prepare("SELECT DISTINCT source_id FROM grants WHERE source = 'booking'").pluck().all() as string[]);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
