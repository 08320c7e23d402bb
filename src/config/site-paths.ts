import { join } from 'node:path';
import { linkFiles, type LinkFile } from './preflight.js';
import type { Config } from './schema.js';

/**
 * Every file the gateway, the CLI, backup/restore and the demo derive from a config, in one
 * place: a file name spelled twice is a backup that misses what the gateway writes, or a CLI
 * that opens another database than the running gateway. Paths come out as the config has them
 * (loadConfigFile makes them absolute against the config file's directory); nothing here
 * touches the disk.
 */
export interface SitePaths {
  /** The site's data directory: the database, its snapshot, the key and the archive by default. */
  readonly dataDir: string;
  /** The SQLite database. Its WAL and shared-memory files sit beside it (`-wal`, `-shm`). */
  readonly database: string;
  readonly databaseWal: string;
  readonly databaseShm: string;
  /** The access index as of the last clean stop (store/index-snapshot.ts): a fast start, never the truth. */
  readonly indexSnapshot: string;
  /** The member-token key: configured (`qr.keyFile`), or beside the database. */
  readonly tokenKey: string;
  /** Audit rows past `audit.retentionDays`, exported here before they are pruned. */
  readonly auditArchive: string;
  /** The prefix of restore's staging directory: inside dataDir, so its renames stay on one disk. */
  readonly restoreStagePrefix: string;
  /** The files the MQTT and platform links read (password, token, TLS), with the link each belongs to. */
  readonly linkFiles: readonly LinkFile[];
  /** Files the config names by path (unset ones undefined): backups carry them, restore puts them back. */
  readonly named: NamedFiles;
  /** Where `lintel restore --force` moves the database it replaces; `stamp` keeps earlier ones. */
  databaseKeptAside(stamp: string): string;
}

export interface NamedFiles {
  readonly httpToken: string | undefined;
  readonly mqttPassword: string | undefined;
  readonly mqttTlsCa: string | undefined;
  readonly mqttTlsCert: string | undefined;
  readonly mqttTlsKey: string | undefined;
  readonly upstreamToken: string | undefined;
}

/** File names inside dataDir. Changing one moves a running site's data: a migration, not an edit. */
const DATABASE = 'lintel.db';
const INDEX_SNAPSHOT = 'lintel.index';
const TOKEN_KEY = 'qr-token.key';
const AUDIT_ARCHIVE = 'audit-archive';
const RESTORE_STAGE = '.restore-';

export function sitePaths(cfg: Config): SitePaths {
  const dataDir = cfg.dataDir;
  const database = join(dataDir, DATABASE);
  return {
    dataDir,
    database,
    databaseWal: `${database}-wal`,
    databaseShm: `${database}-shm`,
    indexSnapshot: join(dataDir, INDEX_SNAPSHOT),
    tokenKey: cfg.qr.keyFile ?? join(dataDir, TOKEN_KEY),
    auditArchive: join(dataDir, AUDIT_ARCHIVE),
    restoreStagePrefix: join(dataDir, RESTORE_STAGE),
    linkFiles: linkFiles(cfg),
    named: {
      httpToken: cfg.http.authTokenFile,
      mqttPassword: cfg.mqtt.passwordFile,
      mqttTlsCa: cfg.mqtt.tls?.caFile,
      mqttTlsCert: cfg.mqtt.tls?.certFile,
      mqttTlsKey: cfg.mqtt.tls?.keyFile,
      upstreamToken: cfg.upstream?.tokenFile,
    },
    databaseKeptAside: (stamp) => `${database}.before-restore.${stamp}`,
  };
}
