import Database from 'better-sqlite3';
import { once } from 'node:events';
import { chmodSync, copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { create as createTar } from 'tar';
import type { Config } from '../config/schema.js';
import { VERSION } from '../version.js';
import { DATABASE_NAME, MANIFEST_NAME, sha256File, type Manifest, type ManifestFile } from './manifest.js';
import { sitePaths } from '../config/site-paths.js';
import { siteFiles } from './site-files.js';

export interface BackupResult {
  file: string;
  manifest: Manifest;
  /** Files the config names that were not there to copy (a token key never created, say). */
  missing: string[];
}

/**
 * `lintel backup FILE`: one gzip'd tar (readable with `tar tzvf`) of the database, the token key
 * and the files the config names, with lintel-backup.json listing each with its mode, owner and
 * SHA-256. The database copy is SQLite's online backup: consistent, and safe while the gateway
 * runs and writes (it copies pages between the gateway's commits). The copy is made on a plain
 * connection, never through openDatabase: a backup must not migrate the database under a
 * running older gateway. Files are staged in a 0700 directory beside the archive (same disk,
 * not a tmpfs holding a gigabyte of audit log) and the archive itself is created 0600 and never
 * over an existing file.
 */
export async function createBackup(cfg: Config, out: string, now = Date.now()): Promise<BackupResult> {
  const dbFile = sitePaths(cfg).database;
  if (!existsSync(dbFile)) throw new Error(`no database at ${dbFile}: nothing to back up (is dataDir right?)`);
  const target = resolve(out);
  if (existsSync(target)) throw new Error(`${target} exists; a backup never overwrites a file`);
  const stage = mkdtempSync(join(dirname(target), '.lintel-backup-'));
  try {
    const files: ManifestFile[] = [];
    const db = new Database(dbFile, { fileMustExist: true });
    let schemaVersion: number;
    try {
      db.pragma('busy_timeout = 5000');
      schemaVersion = db.pragma('user_version', { simple: true }) as number;
      await db.backup(join(stage, DATABASE_NAME));
    } finally {
      db.close();
    }
    files.push(await stageEntry(dbFile, join(stage, DATABASE_NAME), DATABASE_NAME, 'database'));
    const missing: string[] = [];
    mkdirSync(join(stage, 'files'), { mode: 0o700 });
    for (const f of siteFiles(cfg)) {
      if (!existsSync(f.path)) {
        missing.push(`${f.role} (${f.path})`);
        continue;
      }
      const name = `files/${f.role}`;
      copyFileSync(f.path, join(stage, name));
      files.push(await stageEntry(f.path, join(stage, name), name, f.role));
    }
    const manifest: Manifest = {
      format: 'lintel-backup',
      formatVersion: 1,
      createdAt: new Date(now).toISOString(),
      lintelVersion: VERSION,
      siteId: cfg.site.id,
      schemaVersion,
      files,
    };
    writeFileSync(join(stage, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await writeArchive(stage, target, [MANIFEST_NAME, ...files.map((f) => f.name)]);
    return { file: target, manifest, missing };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** The staged copy gets the original's mode (tar records it) and the manifest its mode, owner and hash. */
async function stageEntry(original: string, staged: string, name: string, role: ManifestFile['role']): Promise<ManifestFile> {
  const st = statSync(original);
  const mode = st.mode & 0o7777;
  chmodSync(staged, mode);
  return { name, role, path: original, mode, uid: st.uid, gid: st.gid, size: statSync(staged).size, sha256: await sha256File(staged) };
}

async function writeArchive(stage: string, target: string, names: string[]): Promise<void> {
  const out = createWriteStream(target, { mode: 0o600, flags: 'wx' });
  try {
    await once(out, 'open');
    // portable: no uid/gid/mtime-of-host noise in the headers; ownership is in the manifest.
    await pipeline(createTar({ gzip: true, cwd: stage, portable: true }, names), out);
  } catch (err) {
    out.destroy();
    rmSync(target, { force: true });
    throw err;
  }
}
