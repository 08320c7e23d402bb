import type { Db } from './db.js';

export interface AuditEntry {
  at: number;
  readerId: string | null;
  doorId: string | null;
  /** Already masked: the full card number never reaches the audit table. */
  credential: string | null;
  personId: number | null;
  result: 'granted' | 'denied';
  reason: string;
  relay: 'sent' | 'unreachable' | 'expired' | 'none';
  /** Identical denials this row stands for (flood collapsing, migration 7); 1 when absent. */
  count?: number;
  /** Which source's window granted (migration 12); null for denials. */
  source?: string | null;
  /** A policy event of the decision (a soft anti-passback violation); null for most. */
  event?: string | null;
}

export interface AuditRow {
  id: number;
  at: number;
  reader_id: string | null;
  door_id: string | null;
  credential: string | null;
  person_id: number | null;
  result: 'granted' | 'denied';
  reason: string;
  relay: string | null;
  count: number;
  source: string | null;
  event: string | null;
}

/** Append-only decision log (triggers in migration 1 refuse UPDATE and DELETE). */
export class AuditLog {
  /** All rows or none, in one commit: a burst of decisions costs one WAL append. */
  readonly appendMany: (entries: readonly AuditEntry[]) => void;

  constructor(private readonly db: Db) {
    const insert = db.prepare(
      'INSERT INTO audit (at, reader_id, door_id, credential, person_id, result, reason, relay, count, source, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.appendMany = db.transaction((entries: readonly AuditEntry[]) => {
      for (const e of entries) insert.run(e.at, e.readerId, e.doorId, e.credential, e.personId, e.result, e.reason, e.relay, e.count ?? 1, e.source ?? null, e.event ?? null);
    });
  }

  recent(limit = 50): AuditRow[] {
    return this.db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as AuditRow[];
  }
}
