import { chmodSync, chownSync, copyFileSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { extract } from 'tar';
import type { Config } from '../config/schema.js';
import { RefusedError } from '../cli/exit-codes.js';
import { migrations } from '../store/migrations.js';
import { databaseInUse } from './in-use.js';
import { DATABASE_NAME, MANIFEST_NAME, manifestSchema, sha256File, type Manifest, type ManifestFile } from './manifest.js';
import { sitePaths } from '../config/site-paths.js';
import { siteFiles } from './site-files.js';

export interface RestoreResult {
  manifest: Manifest;
  restored: string[];
  /** Existing data moved aside by --force (the database; secrets are replaced). */
  keptAside: string[];
  /** Files in the archive that the current config names no place for. */
  skipped: string[];
}

/**
 * `lintel restore FILE`: puts an archive from `lintel backup` back where the current config
 * says each part lives. Refuses (RefusedError, exit 3, nothing written) while any process has
 * the database open (in-use.ts), when the archive's schema is newer than this build, and when
 * it would overwrite existing data that differs from the archive, unless `force`. With `force`
 * the existing database is moved aside, not deleted. Each file gets its recorded mode, and its
 * recorded owner when run as root (a restore by root must leave the files readable by the
 * service user, as they were).
 */
export async function restoreBackup(cfg: Config, archive: string, opts: { force: boolean; now?: number }): Promise<RestoreResult> {
  const paths = sitePaths(cfg);
  const dbFile = paths.database;
  if (databaseInUse(dbFile)) {
    throw new RefusedError(`${dbFile} is open in another process (a running gateway?): stop it first (systemctl stop lintel); nothing was restored`);
  }
  mkdirSync(paths.dataDir, { recursive: true, mode: 0o750 });
  const stage = mkdtempSync(paths.restoreStagePrefix);
  try {
    const manifest = await unpack(archive, stage);
    const known = migrations.at(-1)!.version;
    if (manifest.schemaVersion > known) {
      throw new RefusedError(`${archive} holds a database at schema ${manifest.schemaVersion}, newer than this lintel knows (${known}): restore it with the newer build that made it`);
    }
    if (manifest.siteId !== cfg.site.id && !opts.force) {
      throw new RefusedError(`${archive} is a backup of site "${manifest.siteId}", the config is for site "${cfg.site.id}" (use --force if that is meant)`);
    }
    const where = new Map<string, string>([['database', dbFile], ...siteFiles(cfg).map((f): [string, string] => [f.role, f.path])]);
    const plan: Array<{ entry: ManifestFile; target: string }> = [];
    const skipped: string[] = [];
    for (const entry of manifest.files) {
      const target = where.get(entry.role);
      if (target === undefined) skipped.push(`${entry.role} (was ${entry.path}; the config names no file for it)`);
      else plan.push({ entry, target });
    }
    const conflicts: string[] = [];
    for (const p of plan) if (existsSync(p.target) && (await sha256File(p.target)) !== p.entry.sha256) conflicts.push(p.target);
    if (conflicts.length > 0 && !opts.force) {
      throw new RefusedError(`refusing to overwrite existing data (use --force; the database is kept aside):\n  ${conflicts.join('\n  ')}`);
    }
    const keptAside: string[] = [];
    const stamp = new Date(opts.now ?? Date.now()).toISOString().replace(/[-:]/g, '');
    if (existsSync(dbFile) && conflicts.includes(dbFile)) {
      const aside = paths.databaseKeptAside(stamp);
      renameSync(dbFile, aside);
      // Its WAL goes with it: a WAL left beside the restored file would be replayed into it.
      if (existsSync(paths.databaseWal)) renameSync(paths.databaseWal, `${aside}-wal`);
      keptAside.push(aside);
    }
    rmSync(paths.databaseWal, { force: true });
    rmSync(paths.databaseShm, { force: true });
    const restored: string[] = [];
    for (const p of plan) {
      place(join(stage, p.entry.name), p.target, p.entry);
      restored.push(p.target);
    }
    return { manifest, restored, keptAside, skipped };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Extracts only the names a backup has, then checks the manifest and every file against it. */
async function unpack(archive: string, stage: string): Promise<Manifest> {
  const allowed = /^(lintel-backup\.json|lintel\.db|files\/?|files\/[a-z-]+)$/;
  const refused: string[] = [];
  try {
    await extract({
      file: archive,
      cwd: stage,
      strict: true,
      preserveOwner: false,
      filter: (path, entry) => {
        const ok = allowed.test(path) && ('type' in entry ? entry.type === 'File' || entry.type === 'Directory' : true);
        if (!ok) refused.push(path);
        return ok;
      },
    });
  } catch (err) {
    throw new RefusedError(`${archive} is not a readable lintel backup: ${(err as Error).message}`);
  }
  if (refused.length > 0) throw new RefusedError(`${archive} holds entries a lintel backup does not: ${refused.slice(0, 5).join(', ')}`);
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(await readFile(join(stage, MANIFEST_NAME), 'utf8')));
  } catch (err) {
    throw new RefusedError(`${archive} has no valid ${MANIFEST_NAME}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!manifest.files.some((f) => f.name === DATABASE_NAME && f.role === 'database')) throw new RefusedError(`${archive} holds no database`);
  for (const f of manifest.files) {
    const path = join(stage, f.name);
    if (!existsSync(path) || statSync(path).size !== f.size || (await sha256File(path)) !== f.sha256) {
      throw new RefusedError(`${archive}: ${f.name} is missing or does not match its checksum (a cut-short or altered archive); nothing was restored`);
    }
  }
  return manifest;
}

/**
 * Copies beside the target and renames over it: a crash leaves the old file or the new one,
 * never half of one. The mode is set before the rename, so a secret is never briefly readable.
 */
function place(staged: string, target: string, entry: ManifestFile): void {
  mkdirSync(dirname(target), { recursive: true, mode: 0o750 });
  const tmp = `${target}.restoring`;
  rmSync(tmp, { force: true });
  copyFileSync(staged, tmp, constants.COPYFILE_EXCL);
  chmodSync(tmp, entry.mode);
  if (process.getuid?.() === 0) chownSync(tmp, entry.uid, entry.gid);
  renameSync(tmp, target);
}
