import type { Migration } from './migrations.js';

/*
 * Locations (issue 12, config/locations.ts): several platform links share one database, so each
 * link's own state is keyed by its location. The same rules as migrations.ts: forward only, each
 * in its own transaction with its user_version bump, never edited once shipped.
 */
export const locationMigrations: readonly Migration[] = [
  {
    version: 16,
    name: 'locations: platform subscriptions per location, plan subscriptions name their location',
    sql: `
      -- A link subscribes afresh at start and deletes the stored subscriptions it replaced: with
      -- two links in one table each must see only its own. Two platforms may also hand out the
      -- same subscription id, hence the key. Rows from before have location '' (no location
      -- known then); the first link to start adopts them (store/upstream-state.ts).
      CREATE TABLE upstream_subscriptions_v16 (
        location TEXT NOT NULL,
        subscription_id TEXT NOT NULL,
        secret TEXT NOT NULL,
        resource_ids TEXT NOT NULL,            -- JSON array, sorted
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'replaced')),
        PRIMARY KEY (location, subscription_id)
      );
      INSERT INTO upstream_subscriptions_v16 SELECT '', subscription_id, secret, resource_ids, created_at, expires_at, state FROM upstream_subscriptions;
      DROP TABLE upstream_subscriptions;
      ALTER TABLE upstream_subscriptions_v16 RENAME TO upstream_subscriptions;
      -- The location a plan subscription belongs to (NULL: none named): a location disconnected
      -- with onDisconnect: revoke ends its subscriptions (store/location-revoke.ts).
      ALTER TABLE subscriptions ADD COLUMN location TEXT;
      CREATE INDEX subscriptions_location ON subscriptions(location) WHERE location IS NOT NULL;
    `,
  },
];
