import { isSqliteBusy } from '../store/sqlite-busy.js';
import type { Store } from '../store/store.js';
import { pruneWebhooks, rememberWebhook, webhookSeen } from '../store/upstream-state.js';
import type { Clock } from '../util/clock.js';

/** A replay id lost to a power cut costs one repeated (idempotent) daily-list fetch: no fsync each. */
const REDERIVABLE = { durability: 'normal' } as const;

/** Retry-After on a callback that met a held lock: the platform's first retry comes after 5 s anyway (spec §4). */
export const BUSY_RETRY_AFTER_SEC = 5;

/** The platform retries one event for 24 h; ids are kept twice as long, so a late retry is still known. */
export const REPLAY_WINDOW_MS = 48 * 3_600_000;

/**
 * Remembers accepted `webhook-id`s durably (SQLite), so a retry of an event already accepted —
 * even across a restart — is answered 200 and does nothing.
 */
export class ReplayGuard {
  /**
   * `prefix` scopes the ids to one location's link (`<location>:`): webhook ids are unique per
   * platform, and two platforms may well send the same one. The implicit location keeps '' so
   * ids stored before locations existed still count.
   */
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly prefix = '',
  ) {}

  seen(webhookId: string): boolean {
    return webhookSeen(this.store, this.prefix + webhookId);
  }

  remember(webhookId: string): void {
    this.store.transact((tx) => rememberWebhook(tx, this.prefix + webhookId, this.clock.now()), REDERIVABLE);
  }

  /**
   * false when another process holds the write lock (the gateway's connection never waits for
   * it): nothing was recorded and the callback must be answered with a retry, not accepted.
   */
  tryRemember(webhookId: string): boolean {
    try {
      this.remember(webhookId);
      return true;
    } catch (err) {
      if (isSqliteBusy(err)) return false;
      throw err;
    }
  }

  prune(): number {
    const before = this.clock.now() - REPLAY_WINDOW_MS;
    return this.store.transact((tx) => pruneWebhooks(tx, before), REDERIVABLE);
  }
}
