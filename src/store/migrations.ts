/**
 * Numbered, forward-only migrations. Each runs in its own transaction together with the
 * bump of `PRAGMA user_version`, so a crash mid-migration leaves the previous version intact.
 * Never edit a shipped migration: add the next number.
 */
import { locationMigrations } from './migrations-locations.js';
import { provisioningMigrations } from './migrations-provisioning.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'core: people, credentials, doors, resources, grants, audit',
    sql: `
      CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,            -- stored lower-cased; emails compare case-insensitively
        name TEXT,
        state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended')),
        tokens_valid_after INTEGER NOT NULL DEFAULT 0, -- member QR tokens issued before this (ms) are void
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE credentials (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        number TEXT NOT NULL UNIQUE,           -- canonical card number (see src/readers/card-formats.ts)
        format TEXT NOT NULL,                  -- the format it was imported in, for the operator
        state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled', 'lost')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX credentials_person ON credentials(person_id);
      CREATE TABLE doors (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL
      );
      CREATE TABLE resource_doors (
        resource_id TEXT NOT NULL,
        door_id TEXT NOT NULL REFERENCES doors(id) ON DELETE CASCADE,
        PRIMARY KEY (resource_id, door_id)
      );
      CREATE TABLE grants (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        door_id TEXT NOT NULL,
        valid_from INTEGER,                    -- ms since epoch, NULL = open start
        valid_to INTEGER,                      -- ms since epoch, exclusive, NULL = open end
        source TEXT NOT NULL CHECK (source IN ('booking', 'subscription', 'visit', 'staff')),
        source_id TEXT NOT NULL
      );
      CREATE INDEX grants_person ON grants(person_id);
      CREATE INDEX grants_source ON grants(source, source_id);
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        reader_id TEXT,
        door_id TEXT,
        credential TEXT,                       -- masked, never the full number
        person_id INTEGER,
        result TEXT NOT NULL CHECK (result IN ('granted', 'denied')),
        reason TEXT NOT NULL,
        relay TEXT                             -- sent | unreachable | none
      );
      CREATE INDEX audit_at ON audit(at);
      CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'upstream: appointments, subscriptions, webhook replay guard',
    sql: `
      CREATE TABLE appointments (
        appointment_id TEXT PRIMARY KEY,
        resource_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
        start_at INTEGER NOT NULL,
        end_at INTEGER NOT NULL,
        participants TEXT NOT NULL,            -- JSON array of lower-cased emails, organizer first
        updated_at TEXT,
        fetched_at INTEGER NOT NULL
      );
      CREATE INDEX appointments_resource ON appointments(resource_id, start_at);
      CREATE TABLE upstream_subscriptions (
        subscription_id TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        resource_ids TEXT NOT NULL,            -- JSON array, sorted
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'replaced'))
      );
      CREATE TABLE webhook_events (
        webhook_id TEXT PRIMARY KEY,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX webhook_events_received ON webhook_events(received_at);
    `,
  },
  {
    version: 3,
    name: 'visitors: cached visit verifications',
    sql: `
      CREATE TABLE visits (
        code_hash TEXT PRIMARY KEY,            -- sha256 of the registration code; the code itself is not kept
        visit_id TEXT NOT NULL,
        status TEXT NOT NULL,
        visitor_email TEXT,
        valid_from INTEGER NOT NULL,
        valid_to INTEGER NOT NULL,
        fetched_at INTEGER NOT NULL
      );
      CREATE INDEX visits_valid_to ON visits(valid_to);
    `,
  },
  {
    version: 4,
    name: 'upstream: last-seen time zone of each booking resource',
    sql: `
      -- Reconciliation fetches yesterday/today/tomorrow in the resource's own zone; the zone is
      -- only known from a daily list, so it is kept across restarts.
      CREATE TABLE upstream_resource_zones (
        resource_id TEXT PRIMARY KEY,
        time_zone TEXT NOT NULL,
        seen_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: "upstream: 'pending' subscriptions (secret stored before the create call)",
    sql: `
      -- The secret is kept before the platform answers, so callbacks of a subscription whose
      -- 201 was lost (timeout) still verify and can be recognised and deleted. SQLite cannot
      -- change a CHECK constraint in place: rebuild the table.
      CREATE TABLE upstream_subscriptions_v5 (
        subscription_id TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        resource_ids TEXT NOT NULL,            -- JSON array, sorted
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'replaced'))
      );
      INSERT INTO upstream_subscriptions_v5 SELECT subscription_id, secret, resource_ids, created_at, expires_at, state FROM upstream_subscriptions;
      DROP TABLE upstream_subscriptions;
      ALTER TABLE upstream_subscriptions_v5 RENAME TO upstream_subscriptions;
    `,
  },
  {
    version: 6,
    name: 'change log: every change the access index depends on, from any connection',
    sql: `
      -- The running gateway applies other processes' commits (\`lintel cards import\`, the sqlite3
      -- shell) person by person instead of rebuilding its index. Triggers, not application code,
      -- fill this table, so no writer can bypass it. person_id NULL + doors = 1: the door set or
      -- the resource mapping changed. Pruned by the gateway once applied (housekeeping).
      CREATE TABLE change_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        person_id INTEGER,
        doors INTEGER NOT NULL DEFAULT 0
      );
      CREATE TRIGGER change_log_people_insert AFTER INSERT ON people
        BEGIN INSERT INTO change_log (person_id) VALUES (NEW.id); END;
      CREATE TRIGGER change_log_people_update AFTER UPDATE ON people
        BEGIN INSERT INTO change_log (person_id) SELECT NEW.id UNION SELECT OLD.id; END;
      CREATE TRIGGER change_log_people_delete AFTER DELETE ON people
        BEGIN INSERT INTO change_log (person_id) VALUES (OLD.id); END;
      CREATE TRIGGER change_log_credentials_insert AFTER INSERT ON credentials
        BEGIN INSERT INTO change_log (person_id) VALUES (NEW.person_id); END;
      CREATE TRIGGER change_log_credentials_update AFTER UPDATE ON credentials
        BEGIN INSERT INTO change_log (person_id) SELECT NEW.person_id UNION SELECT OLD.person_id; END;
      CREATE TRIGGER change_log_credentials_delete AFTER DELETE ON credentials
        BEGIN INSERT INTO change_log (person_id) VALUES (OLD.person_id); END;
      CREATE TRIGGER change_log_grants_insert AFTER INSERT ON grants
        BEGIN INSERT INTO change_log (person_id) VALUES (NEW.person_id); END;
      CREATE TRIGGER change_log_grants_update AFTER UPDATE ON grants
        BEGIN INSERT INTO change_log (person_id) SELECT NEW.person_id UNION SELECT OLD.person_id; END;
      CREATE TRIGGER change_log_grants_delete AFTER DELETE ON grants
        BEGIN INSERT INTO change_log (person_id) VALUES (OLD.person_id); END;
      CREATE TRIGGER change_log_doors_insert AFTER INSERT ON doors BEGIN INSERT INTO change_log (doors) VALUES (1); END;
      CREATE TRIGGER change_log_doors_update AFTER UPDATE ON doors BEGIN INSERT INTO change_log (doors) VALUES (1); END;
      CREATE TRIGGER change_log_doors_delete AFTER DELETE ON doors BEGIN INSERT INTO change_log (doors) VALUES (1); END;
      CREATE TRIGGER change_log_resource_doors_insert AFTER INSERT ON resource_doors BEGIN INSERT INTO change_log (doors) VALUES (1); END;
      CREATE TRIGGER change_log_resource_doors_delete AFTER DELETE ON resource_doors BEGIN INSERT INTO change_log (doors) VALUES (1); END;
      -- Start the sequence so the high-water mark is readable before the first change.
      INSERT INTO change_log (doors) VALUES (1);
    `,
  },
  {
    version: 7,
    name: 'audit: counted rows (flood collapsing) and pruning only through an export permit',
    sql: `
      -- One row may stand for many identical denials in one second (src/pipeline/flood-collapse.ts).
      ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);
      -- The audit log stays append-only, except for rows a retention run has just exported:
      -- the run inserts a permit naming the last exported row and the cut-off, deletes, and
      -- removes the permit in the same transaction, so a permit never outlives it.
      CREATE TABLE audit_prune_permit (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        up_to_id INTEGER NOT NULL,
        before_at INTEGER NOT NULL
      );
      DROP TRIGGER audit_append_only_delete;
      CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permit p WHERE OLD.id <= p.up_to_id AND OLD.at < p.before_at)
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      -- What each retention run exported before it deleted: the archive's table of contents.
      CREATE TABLE audit_exports (
        file TEXT PRIMARY KEY,                 -- name inside dataDir/audit-archive/
        rows INTEGER NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        sha256 TEXT NOT NULL,                  -- of the file as written
        exported_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: "people: each person's member-token subject, stored with the id of the key it was made with",
    sql: `
      -- Computing the subject (an HMAC of the email) for every person at start cost ~2.6 s at a
      -- million people: writers store it (src/store/subject-columns.ts) and the index loader uses it
      -- when subject_key names the key the gateway runs with, computing it only otherwise. Two
      -- unsigned 32-bit halves: SQLite integers are signed 64-bit and JavaScript numbers 53-bit.
      ALTER TABLE people ADD COLUMN subject_hi INTEGER;
      ALTER TABLE people ADD COLUMN subject_lo INTEGER;
      ALTER TABLE people ADD COLUMN subject_key INTEGER;   -- first 4 bytes of SHA-256(key), as an unsigned integer
      -- A subject is a function of the email: whoever changes an email (the sqlite3 shell
      -- included) voids the stored one, so it can never name the person by an old address.
      CREATE TRIGGER people_subject_void AFTER UPDATE OF email ON people WHEN NEW.email IS NOT OLD.email
        BEGIN UPDATE people SET subject_hi = NULL, subject_lo = NULL, subject_key = NULL WHERE id = NEW.id; END;
    `,
  },
  {
    version: 9,
    name: 'schema_history: which lintel build applied each migration, and when',
    sql: `
      -- Written by migrate() (src/store/db.ts) in each migration's own transaction. A database
      -- upgraded from version 8 or lower has no rows for the versions it had before: their
      -- dates were never kept.
      CREATE TABLE schema_history (
        version INTEGER PRIMARY KEY,
        applied_at INTEGER NOT NULL,           -- ms since epoch
        lintel_version TEXT NOT NULL           -- package version of the build that applied it
      );
    `,
  },
  {
    version: 10,
    name: 'index_snapshot: which snapshot file of the access index this database vouches for',
    sql: `
      -- The gateway writes its index to a file at a clean stop (src/store/index-snapshot.ts) and
      -- records here the file's random id and the change-log seq it is consistent with. At start
      -- the file is used only if this row names it: a database restored from a backup, or copied
      -- from elsewhere, names another snapshot (or none) and the index is loaded from the tables.
      CREATE TABLE index_snapshot (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        snapshot_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        written_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 11,
    name: 'access model: person and card validity, access-group memberships, site state (lockdown)',
    sql: `
      -- Validity in ms since epoch; NULL = open. A person outside theirs is refused with
      -- person_not_yet_valid / person_expired, a card outside its own with credential_*.
      -- 'lost' is already a credential state (migration 1): it is a disabled card reported lost.
      ALTER TABLE people ADD COLUMN valid_from INTEGER;
      ALTER TABLE people ADD COLUMN valid_to INTEGER;       -- exclusive
      ALTER TABLE credentials ADD COLUMN valid_from INTEGER;
      ALTER TABLE credentials ADD COLUMN valid_to INTEGER;  -- exclusive
      -- Standing access by access group: the groups themselves live in the configuration, so
      -- group_id is not a foreign key (a group removed from the YAML opens nothing). source
      -- says who owns the row ('staff' from the card list, 'subscription', 'api') and has no
      -- CHECK: the next sources must not need a table rebuild. Each source replaces only its rows.
      CREATE TABLE person_groups (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        group_id TEXT NOT NULL,
        valid_from INTEGER,                    -- ms, NULL = open
        valid_to INTEGER,                      -- ms, exclusive, NULL = open
        source TEXT NOT NULL,
        source_id TEXT NOT NULL,
        UNIQUE (person_id, group_id, source, source_id)
      );
      CREATE INDEX person_groups_source ON person_groups(source, source_id);
      CREATE TRIGGER change_log_person_groups_insert AFTER INSERT ON person_groups
        BEGIN INSERT INTO change_log (person_id) VALUES (NEW.person_id); END;
      CREATE TRIGGER change_log_person_groups_update AFTER UPDATE ON person_groups
        BEGIN INSERT INTO change_log (person_id) SELECT NEW.person_id UNION SELECT OLD.person_id; END;
      CREATE TRIGGER change_log_person_groups_delete AFTER DELETE ON person_groups
        BEGIN INSERT INTO change_log (person_id) VALUES (OLD.person_id); END;
      -- Site-wide flags (lockdown first), who set them and when. Written by \`lintel lockdown\`
      -- from another process as often as by the gateway: each change is logged with doors = 1,
      -- the log's existing "refresh the site-wide part" mark, so the running gateway sees it
      -- within a poll, as it sees a door added by a config reload.
      CREATE TABLE site_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL,           -- ms
        updated_by TEXT NOT NULL               -- operator, "cli:user@host", "api:…"
      );
      CREATE TRIGGER change_log_site_state_insert AFTER INSERT ON site_state BEGIN INSERT INTO change_log (doors) VALUES (1); END;
      CREATE TRIGGER change_log_site_state_update AFTER UPDATE ON site_state BEGIN INSERT INTO change_log (doors) VALUES (1); END;
      CREATE TRIGGER change_log_site_state_delete AFTER DELETE ON site_state BEGIN INSERT INTO change_log (doors) VALUES (1); END;
    `,
  },
  {
    version: 12,
    name: 'audit: which source granted, and the policy event of a decision',
    sql: `
      -- The access model's audit trail: a granted row names the source whose window opened the
      -- door (booking, subscription, visit, staff, group), and a decision may carry a policy
      -- event (a soft anti-passback violation). NULL on every row written before.
      ALTER TABLE audit ADD COLUMN source TEXT;
      ALTER TABLE audit ADD COLUMN event TEXT;
    `,
  },
  ...provisioningMigrations,
  ...locationMigrations,
];
