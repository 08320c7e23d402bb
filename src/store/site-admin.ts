import type { LockdownState } from './site-repository.js';
import type { DbHolder, Store } from './store.js';
import { readLockdown } from './site-repository.js';

/*
 * The operator's site-wide switches: lockdown today. Like member-admin.ts, the rules live here
 * so that the CLI, the console and the provisioning API call the same functions. Each write is
 * one Store.transact; the running gateway sees it through change_log (doors = 1), whether it
 * or another process made it.
 */

export interface LockdownChange extends LockdownState {
  /** False when the site already was in the asked-for state (nothing written: who/when stay the first switch's). */
  changed: boolean;
}

/** Puts the site in lockdown (only lockdown-override groups open doors) or lifts it; `by` names the operator. */
export function switchLockdown(store: Store, on: boolean, now: number, by: string): LockdownChange {
  return store.transact((tx) => {
    const changed = tx.site.setLockdown(on, now, by);
    return { ...tx.site.lockdown(), changed };
  });
}

export function lockdownStatus(store: DbHolder): LockdownState {
  return readLockdown(store.db);
}
