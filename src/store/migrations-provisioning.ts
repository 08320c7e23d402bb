import type { Migration } from './migrations.js';

/*
 * The provisioning and console migrations (13 on): API tokens and the change audit, companies
 * and plan subscriptions, operator accounts. The same rules as migrations.ts: forward only, each
 * in its own transaction with its user_version bump, never edited once shipped.
 */
export const provisioningMigrations: readonly Migration[] = [
  {
    version: 13,
    name: 'provisioning API: hashed API tokens, and the audit of every change made through the API or the CLI',
    sql: `
      -- A token is shown once, at creation; only its SHA-256 is kept (a 256-bit random token
      -- needs no slow hash). name is what the change audit names. revoked_at set = refused.
      CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
        token_hash BLOB NOT NULL UNIQUE,       -- sha256 of the token
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_used_at INTEGER
      );
      -- Who changed what: one row per accepted change (a refused request writes nothing).
      -- target is a natural key (an email, a card's masked number), never a row id.
      CREATE TABLE change_audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,                   -- "api:<token name>", "cli:user@host"
        action TEXT NOT NULL,                  -- e.g. person.put, card.lost
        target TEXT NOT NULL,
        detail TEXT                            -- JSON, no secrets, no full card numbers
      );
      CREATE INDEX change_audit_at ON change_audit(at);
      CREATE TRIGGER change_audit_append_only_update BEFORE UPDATE ON change_audit
        BEGIN SELECT RAISE(ABORT, 'change audit is append-only'); END;
    `,
  },
  {
    version: 14,
    name: 'companies, their members, and plan subscriptions of a person or a company',
    sql: `
      -- A company is named by the platform's own id (the API path's companyId), never a row id.
      CREATE TABLE companies (
        id TEXT PRIMARY KEY,
        name TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- The person as primary key: a person is in at most one company, and moving is leave + join.
      CREATE TABLE company_members (
        person_id INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
        company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
        joined_at INTEGER NOT NULL
      );
      CREATE INDEX company_members_company ON company_members(company_id);
      -- A subscription is of one person or of one company, never both. Its access is not read
      -- from here at a swipe: src/store/subscription-admin.ts writes it into person_groups
      -- (source 'subscription', source_id = id) for the person or every member, so the index
      -- and its change_log triggers need nothing new. groups is a JSON array of access-group ids.
      CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        person_id INTEGER REFERENCES people(id) ON DELETE CASCADE,
        company_id TEXT REFERENCES companies(id) ON DELETE CASCADE,
        groups TEXT NOT NULL,
        starts_at INTEGER NOT NULL,            -- ms
        ends_at INTEGER,                       -- ms, exclusive, NULL = open
        cancelled_at INTEGER,                  -- ms: access ends at this instant
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        CHECK ((person_id IS NULL) <> (company_id IS NULL))
      );
      CREATE INDEX subscriptions_person ON subscriptions(person_id) WHERE person_id IS NOT NULL;
      CREATE INDEX subscriptions_company ON subscriptions(company_id) WHERE company_id IS NOT NULL;
    `,
  },
  {
    version: 15,
    name: 'console: local operator accounts with scrypt password hashes',
    sql: `
      -- Who may sign in at /login. name is what the change audit and the console show
      -- ("console:<name>"); password_hash is self-describing (scrypt$N$r$p$salt$hash) and is
      -- never listed, exported or logged. The role decides what the account may do (console/actions.ts).
      CREATE TABLE operators (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
];
