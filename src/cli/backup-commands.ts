import { loadConfigFile } from '../config/load.js';
import { createBackup } from '../backup/backup.js';
import { restoreBackup } from '../backup/restore.js';
import { EXIT } from './exit-codes.js';
import { configPath, type CommandSpec } from './spec.js';

/* `lintel backup` and `lintel restore` (README "Backup and restore"). */

export const backupCommands: readonly CommandSpec[] = [
  {
    name: 'backup',
    args: 'FILE.tar.gz [-c FILE] [--json]',
    summary: 'Write the database (online, safe while the gateway runs), the token key and the secret files the config names into one archive.',
    details: 'The archive is created with mode 0600 and never over an existing file; it holds secrets: store it like them.',
    positionals: [1, 1],
    options: { json: { type: 'boolean', help: 'print what was written as JSON' } },
    run: async (p) => {
      const r = await createBackup(loadConfigFile(configPath(p.values.config)), p.positionals[0]!);
      if (p.values.json) {
        console.log(JSON.stringify({ file: r.file, ...r.manifest, missing: r.missing }, null, 2));
        return EXIT.ok;
      }
      for (const m of r.missing) console.error(`warning: not backed up, the file does not exist: ${m}`);
      console.log(`backed up site ${r.manifest.siteId} (schema ${r.manifest.schemaVersion}) to ${r.file}: ${r.manifest.files.map((f) => f.role).join(', ')}`);
      return EXIT.ok;
    },
  },
  {
    name: 'restore',
    args: 'FILE.tar.gz [-c FILE] [--force]',
    summary: 'Put a `lintel backup` archive back where the config says each part lives, with its file modes.',
    details:
      'Refuses (exit 3, nothing written) while any process has the database open, and when it would overwrite existing data\nthat differs from the archive unless --force; with --force the existing database is renamed aside, not deleted.',
    positionals: [1, 1],
    options: { force: { type: 'boolean', help: 'replace existing data (the old database is kept as lintel.db.before-restore.*)' } },
    run: async (p) => {
      const r = await restoreBackup(loadConfigFile(configPath(p.values.config)), p.positionals[0]!, { force: p.values.force === true });
      for (const s of r.skipped) console.error(`warning: not restored: ${s}`);
      for (const a of r.keptAside) console.log(`kept the replaced database as ${a}`);
      console.log(`restored site ${r.manifest.siteId} from ${r.manifest.createdAt} (lintel ${r.manifest.lintelVersion}, schema ${r.manifest.schemaVersion}): ${r.restored.join(', ')}`);
      return EXIT.ok;
    },
  },
];
