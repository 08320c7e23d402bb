import { prepareCached as cached } from './db.js';
import type { DbHolder } from './store.js';

/*
 * The audit of changes (migration 13): who changed what, through the API or the CLI. Written in
 * the same transaction as the change, so a change is never without its row and a refused one
 * leaves none. target is a natural key (email, masked card), never a local row id.
 */

export interface ChangeEntry {
  at: number;
  /** "api:<token name>", "cli:user@host" */
  actor: string;
  /** e.g. "person.put", "card.lost", "token.create" */
  action: string;
  target: string;
  /** JSON-able; never a secret or a full card number. */
  detail?: Record<string, unknown>;
}

export interface ChangeRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: string | null;
}

/** Call inside Store.transact, with the transaction's Tx. */
export function recordChange(tx: DbHolder, e: ChangeEntry): void {
  cached(tx.db, 'INSERT INTO change_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)').run(
    e.at,
    e.actor,
    e.action,
    e.target,
    e.detail === undefined ? null : JSON.stringify(e.detail),
  );
}

export function recentChanges(holder: DbHolder, limit = 100): ChangeRow[] {
  return cached(holder.db, 'SELECT id, at, actor, action, target, detail FROM change_audit ORDER BY id DESC LIMIT ?').all(limit) as ChangeRow[];
}
