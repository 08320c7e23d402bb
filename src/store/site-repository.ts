import { prepareCached as cached, type Db } from './db.js';

/** The site-wide flags site_state holds (migration 11). */
export type SiteKey = 'lockdown';

export interface SiteFlag {
  value: string;
  /** ms */
  updatedAt: number;
  updatedBy: string;
}

export interface LockdownState {
  on: boolean;
  /** When and by whom it was last switched; null when it never was. */
  updatedAt: number | null;
  updatedBy: string | null;
}

/**
 * Site-wide state: lockdown first. Every write reaches change_log (doors = 1, the site-wide
 * refresh), so a `lintel lockdown on` from another process reaches the running gateway at its
 * next poll, and one from the gateway's own connection at its commit.
 */
export class SiteRepository {
  constructor(private readonly db: Db) {}

  get(key: SiteKey): SiteFlag | undefined {
    return readFlag(this.db, key);
  }

  /** Writes the flag with who and when; false (nothing written, nothing logged) when it already had that value. */
  set(key: SiteKey, value: string, now: number, by: string): boolean {
    if (readFlag(this.db, key)?.value === value) return false;
    cached(
      this.db,
      `INSERT INTO site_state (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    ).run(key, value, now, by);
    return true;
  }

  lockdown(): LockdownState {
    return readLockdown(this.db);
  }

  /** Switches lockdown; false when it was already so (the first switch's who/when is kept). */
  setLockdown(on: boolean, now: number, by: string): boolean {
    return this.set('lockdown', on ? 'on' : 'off', now, by);
  }
}

function readFlag(db: Db, key: SiteKey): SiteFlag | undefined {
  const row = cached(db, 'SELECT value, updated_at, updated_by FROM site_state WHERE key = ?').get(key) as
    | { value: string; updated_at: number; updated_by: string }
    | undefined;
  return row && { value: row.value, updatedAt: row.updated_at, updatedBy: row.updated_by };
}

/** The lockdown state outside a transaction: for the index refresh of the site-wide part and the status page. */
export function readLockdown(db: Db): LockdownState {
  const flag = readFlag(db, 'lockdown');
  return { on: flag?.value === 'on', updatedAt: flag?.updatedAt ?? null, updatedBy: flag?.updatedBy ?? null };
}
