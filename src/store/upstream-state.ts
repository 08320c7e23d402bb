import { prepareCached as cached } from './db.js';
import type { DbHolder, Tx } from './store.js';


/*
 * Durable state of the booking-platform link: our webhook subscriptions (with the secrets that
 * sign their callbacks), the replay guard of webhook ids, and each resource's last-seen zone.
 */

export interface SubscriptionRecord {
  subscriptionId: string;
  /** `whsec_…`; never logged */
  secret: string;
  resourceIds: string[];
  createdAt: number;
  expiresAt: number;
  /**
   * `pending`: asked for, no answer yet (or the answer was lost); the id is a local placeholder
   * and the secret still verifies callbacks. `replaced`: a newer subscription exists; still
   * accepted until deleted upstream or expired.
   */
  state: 'pending' | 'active' | 'replaced';
}

interface SubscriptionSql {
  subscription_id: string;
  secret: string;
  resource_ids: string;
  created_at: number;
  expires_at: number;
  state: SubscriptionRecord['state'];
}

/**
 * Subscriptions that may still sign callbacks: not yet expired, active or replaced. Every query
 * here is scoped by `location` (config/locations.ts): links share the table, and a link that
 * saw another's rows would verify with its secrets and, at its start, delete them.
 */
export function liveSubscriptions({ db }: DbHolder, now: number, location: string): SubscriptionRecord[] {
  const rows = cached(db, 'SELECT * FROM upstream_subscriptions WHERE location = ? AND expires_at > ? ORDER BY created_at, subscription_id').all(location, now) as SubscriptionSql[];
  return rows.map((r) => ({
    subscriptionId: r.subscription_id,
    secret: r.secret,
    resourceIds: JSON.parse(r.resource_ids) as string[],
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    state: r.state,
  }));
}

export function insertSubscription(tx: Tx, location: string, s: SubscriptionRecord): void {
  cached(
    tx.db,
    `INSERT INTO upstream_subscriptions (location, subscription_id, secret, resource_ids, created_at, expires_at, state)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(location, s.subscriptionId, s.secret, JSON.stringify([...s.resourceIds].sort()), s.createdAt, s.expiresAt, s.state);
}

/** A pending record becomes the platform's subscription once its 201 arrives. */
export function activateSubscription(tx: Tx, location: string, pendingId: string, s: Omit<SubscriptionRecord, 'secret' | 'state'>): void {
  cached(
    tx.db,
    `UPDATE upstream_subscriptions SET subscription_id = ?, resource_ids = ?, created_at = ?, expires_at = ?, state = 'active'
     WHERE location = ? AND subscription_id = ? AND state = 'pending'`,
  ).run(s.subscriptionId, JSON.stringify([...s.resourceIds].sort()), s.createdAt, s.expiresAt, location, pendingId);
}

export function markSubscriptionReplaced(tx: Tx, location: string, subscriptionId: string): void {
  cached(tx.db, "UPDATE upstream_subscriptions SET state = 'replaced' WHERE location = ? AND subscription_id = ?").run(location, subscriptionId);
}

export function deleteSubscriptionRecord(tx: Tx, location: string, subscriptionId: string): void {
  cached(tx.db, 'DELETE FROM upstream_subscriptions WHERE location = ? AND subscription_id = ?').run(location, subscriptionId);
}

export function deleteExpiredSubscriptions(tx: Tx, now: number, location: string): number {
  return cached(tx.db, 'DELETE FROM upstream_subscriptions WHERE location = ? AND expires_at <= ?').run(location, now).changes;
}

/**
 * Rows stored before locations existed (location '', migration 16) become `location`'s: the
 * implicit location's, or the first configured one's (where the top-level upstream moves to).
 * Run on the main thread before any link starts; a second run finds nothing.
 */
export function adoptUnlocatedSubscriptions(tx: Tx, location: string): number {
  return cached(tx.db, "UPDATE upstream_subscriptions SET location = ? WHERE location = ''").run(location).changes;
}

export function webhookSeen({ db }: DbHolder, webhookId: string): boolean {
  return cached(db, 'SELECT 1 FROM webhook_events WHERE webhook_id = ?').get(webhookId) !== undefined;
}

export function rememberWebhook(tx: Tx, webhookId: string, now: number): void {
  cached(tx.db, 'INSERT OR IGNORE INTO webhook_events (webhook_id, received_at) VALUES (?, ?)').run(webhookId, now);
}

export function pruneWebhooks(tx: Tx, receivedBefore: number): number {
  return cached(tx.db, 'DELETE FROM webhook_events WHERE received_at < ?').run(receivedBefore).changes;
}

export function resourceTimeZones({ db }: DbHolder): Map<string, string> {
  const rows = cached(db, 'SELECT resource_id, time_zone FROM upstream_resource_zones').all() as {
    resource_id: string;
    time_zone: string;
  }[];
  return new Map(rows.map((r) => [r.resource_id, r.time_zone]));
}

export function setResourceTimeZone(tx: Tx, resourceId: string, timeZone: string, now: number): void {
  cached(
    tx.db,
    `INSERT INTO upstream_resource_zones (resource_id, time_zone, seen_at) VALUES (?, ?, ?)
     ON CONFLICT(resource_id) DO UPDATE SET time_zone = excluded.time_zone, seen_at = excluded.seen_at
     WHERE upstream_resource_zones.time_zone IS NOT excluded.time_zone`,
  ).run(resourceId, timeZone, now);
}
