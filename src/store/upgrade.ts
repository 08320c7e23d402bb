import { closeSync, openSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import { errorMessage } from '../util/errors.js';
import { VERSION } from '../version.js';

/*
 * Upgrade safety (README "Upgrading"). A migration cannot be undone, and an older build cannot
 * run on a schema it does not know: so before the first pending migration touches a database
 * that has data, a copy of it at the old version is written beside it, and a database newer
 * than this build is refused before anything is written to it, with the way back spelled out.
 */

type Db = Database.Database;

/** Pre-upgrade copies kept per database: enough to step back over a few upgrades, bounded on disk. */
export const KEEP_UPGRADE_BACKUPS = 3;

/** `lintel.db.v8.20261122T100000.123Z.bak`: the schema version the copy opens with, and when it was made. */
const BACKUP_NAME = /^(?<db>.+)\.v(?<version>\d+)\.(?<stamp>\d{8}T\d{6}\.\d{3}Z)\.bak$/;

export interface UpgradeBackup {
  file: string;
  version: number;
  stamp: string;
}

export function upgradeBackupName(dbFile: string, version: number, at: number): string {
  const stamp = new Date(at).toISOString().replace(/[-:]/g, '');
  return `${dbFile}.v${version}.${stamp}.bak`;
}

/** The pre-upgrade copies of `dbFile`, oldest first. */
export function listUpgradeBackups(dbFile: string): UpgradeBackup[] {
  let names: string[];
  try {
    names = readdirSync(dirname(dbFile));
  } catch {
    return [];
  }
  const out: UpgradeBackup[] = [];
  for (const name of names) {
    const m = BACKUP_NAME.exec(name);
    if (m?.groups?.db !== basename(dbFile)) continue;
    out.push({ file: join(dirname(dbFile), name), version: Number(m.groups.version), stamp: m.groups.stamp! });
  }
  return out.sort((a, b) => a.stamp.localeCompare(b.stamp));
}

/**
 * Writes a consistent copy of the open database (VACUUM INTO reads one snapshot, so it is safe
 * beside other connections) at its current version, then drops all but the newest
 * KEEP_UPGRADE_BACKUPS. The file is created empty with mode 0600 first: VACUUM INTO would create
 * it with the umask's mode, and the copy holds everything the database does. A copy that cannot
 * be made stops the upgrade: migrating without the way back is what this exists to prevent.
 */
export function backupBeforeUpgrade(db: Db, dbFile: string, version: number, now: number, keep = KEEP_UPGRADE_BACKUPS): string {
  const target = upgradeBackupName(dbFile, version, now);
  try {
    closeSync(openSync(target, 'wx', 0o600));
    db.prepare('VACUUM INTO ?').run(target);
  } catch (err) {
    rmSync(target, { force: true });
    throw new Error(`cannot back up ${dbFile} before upgrading it from schema version ${version}: ${errorMessage(err)}; nothing was migrated`, { cause: err });
  }
  const all = listUpgradeBackups(dbFile);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old.file, { force: true });
  return target;
}

/** The database was written by a newer lintel: refusing to run, and how to get back to a working gateway. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly dbFile: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(tooNewMessage(dbFile, found, known));
    this.name = 'SchemaTooNewError';
  }
}

function tooNewMessage(dbFile: string, found: number, known: number): string {
  const usable = listUpgradeBackups(dbFile).filter((b) => b.version <= known);
  const newest = usable.at(-1);
  const lines = [
    `${dbFile} has schema version ${found}, newer than this lintel ${VERSION} knows (${known}): a newer lintel upgraded it.`,
    'Refusing to start; the database was not changed. The way back is one of:',
    '  1. install the newer lintel build again (the one that upgraded this database), or',
  ];
  if (newest) {
    lines.push(
      `  2. restore the copy taken before that upgrade (schema ${newest.version}); changes made since are lost:`,
      '       systemctl stop lintel',
      // The WAL moves with its database (it may hold the newer build's last commits); a stale
      // WAL left beside the restored copy would be replayed into it.
      `       mv ${dbFile} ${dbFile}.newer; mv ${dbFile}-wal ${dbFile}.newer-wal 2>/dev/null; rm -f ${dbFile}-shm`,
      `       cp -p ${newest.file} ${dbFile}`,
    );
    if (usable.length > 1) lines.push(`     other copies: ${usable.slice(0, -1).map((b) => basename(b.file)).join(', ')}`);
  } else {
    lines.push(`  2. restore a \`lintel backup\` archive made with this build (lintel restore FILE --force); no pre-upgrade copy is beside ${dbFile}`);
  }
  return lines.join('\n');
}

export type SchemaState = { state: 'current' | 'pending'; version: number; latest: number };

/**
 * What `lintel check-config` says about the data: the schema version of an existing database
 * and whether a start would migrate it. Throws SchemaTooNewError as a start would. Only reads:
 * a plain connection (not read-only, which would leave empty -wal/-shm files behind) that runs
 * one pragma and closes.
 */
export function inspectSchema(dbFile: string, latest: number, open: (file: string) => Db): SchemaState {
  const db = open(dbFile);
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > latest) throw new SchemaTooNewError(dbFile, version, latest);
    return { state: version === latest ? 'current' : 'pending', version, latest };
  } finally {
    db.close();
  }
}
