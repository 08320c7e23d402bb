import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { backupBeforeUpgrade, listUpgradeBackups, SchemaTooNewError } from '../../src/store/upgrade.js';
import { VERSION } from '../../src/version.js';
import { CLI } from '../helpers/lintel-process.js';
import { tempDir } from '../helpers/tmp.js';

/* Upgrade safety on real SQLite files: a copy at the old version before migrating, and a database from a newer build left untouched. */

const LATEST = migrations.at(-1)!.version;
const AT = Date.parse('2026-11-22T10:00:00.123Z');

describe('upgrading the database', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  function dir() {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  }

  /** A database as the build before schema_history left it, with one person in it. */
  function oldDatabase(file: string) {
    const db = openDatabase(file, migrations.filter((m) => m.version <= 8));
    db.prepare("INSERT INTO people (email, name, created_at, updated_at) VALUES ('ana@example.com', 'Ana', 1, 1)").run();
    db.close();
  }

  it('copies a database with data beside itself at its old version (0600) before migrating it, and records the migration', () => {
    const file = join(dir(), 'lintel.db');
    oldDatabase(file);
    const db = openDatabase(file, migrations, { now: () => AT });
    const backups = listUpgradeBackups(file);
    expect(backups.map((b) => b.file)).toEqual([`${file}.v8.20261122T100000.123Z.bak`]);
    expect(statSync(backups[0]!.file).mode & 0o777).toBe(0o600);
    const copy = new Database(backups[0]!.file, { readonly: true });
    expect(copy.pragma('user_version', { simple: true })).toBe(8);
    expect(copy.prepare('SELECT email FROM people').all()).toEqual([{ email: 'ana@example.com' }]);
    copy.close();
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST);
    expect(db.prepare('SELECT version, applied_at, lintel_version FROM schema_history').all()).toEqual(migrations.filter((m) => m.version > 8).map((m) => m.version).map((version) => ({ version, applied_at: AT, lintel_version: VERSION })));
    db.close();
    // Opening again migrates nothing and copies nothing.
    openDatabase(file).close();
    expect(listUpgradeBackups(file)).toHaveLength(1);
  });

  it('a new database gets no copy, and every migration in its history', () => {
    const file = join(dir(), 'lintel.db');
    const db = openDatabase(file, migrations, { now: () => AT });
    expect(listUpgradeBackups(file)).toEqual([]);
    expect(db.prepare('SELECT version FROM schema_history ORDER BY version').pluck().all()).toEqual(migrations.map((m) => m.version));
    db.close();
  });

  it('keeps the newest three copies', () => {
    const file = join(dir(), 'lintel.db');
    oldDatabase(file);
    const db = new Database(file);
    for (let i = 0; i < 5; i++) backupBeforeUpgrade(db, file, 8, AT + i * 1000);
    db.close();
    expect(listUpgradeBackups(file).map((b) => b.stamp)).toEqual(['20261122T100002.123Z', '20261122T100003.123Z', '20261122T100004.123Z']);
  });

  describe('a database a newer build wrote', () => {
    function newerSite() {
      const d = dir();
      const file = join(d, 'data', 'lintel.db');
      oldDatabase(file);
      openDatabase(file, migrations, { now: () => AT }).close(); // the upgrade to this build, with its copy
      const db = new Database(file);
      db.pragma(`user_version = ${LATEST + 1}`);
      db.close();
      const config = join(d, 'lintel.yaml');
      writeFileSync(config, `site: { id: up }\ndataDir: ${join(d, 'data')}\nmqtt: { url: "mqtt://127.0.0.1:1" }\nhttp: { port: 0 }\ndoors: [{ id: front }]\n`);
      const snapshot = () => ({
        files: readdirSync(join(d, 'data')).sort(),
        hash: createHash('sha256').update(readFileSync(file)).digest('hex'),
      });
      return { file, config, snapshot, before: snapshot() };
    }

    it('is refused with the way back, and not changed', () => {
      const site = newerSite();
      let err: unknown;
      try {
        openDatabase(site.file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SchemaTooNewError);
      const message = (err as Error).message;
      expect(message).toContain(`schema version ${LATEST + 1}, newer than this lintel ${VERSION} knows (${LATEST})`);
      expect(message).toMatch(/install the newer lintel build again/);
      expect(message).toContain(`cp -p ${site.file}.v8.20261122T100000.123Z.bak ${site.file}`);
      expect(site.snapshot()).toEqual(site.before);
    });

    it('lintel run and check-config exit 3 with that message and change nothing', () => {
      const site = newerSite();
      for (const args of [['check-config', site.config], ['run', '-c', site.config]]) {
        const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
        expect(r.status, `${args[0]}: ${r.stderr}`).toBe(3);
        expect(r.stderr).toMatch(/newer than this lintel .* knows/);
        expect(r.stderr).toMatch(/restore the copy taken before that upgrade/);
        expect(site.snapshot()).toEqual(site.before);
      }
    });
  });
});
