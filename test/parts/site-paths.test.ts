import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { siteFiles } from '../../src/backup/site-files.js';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { sitePaths } from '../../src/config/site-paths.js';
import { openSiteStore, tokenKeyFile } from '../../src/site-store.js';
import { tempDir } from '../helpers/tmp.js';

/* One module names every file derived from a config; the gateway, backup and the CLI agree on them. */

describe('sitePaths', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('puts the database, snapshot, key and archive in dataDir by default', () => {
    const p = sitePaths(parseConfig({ site: { id: 's' }, dataDir: '/srv/lintel', doors: [{ id: 'front' }] }));
    expect(p).toMatchObject({
      dataDir: '/srv/lintel',
      database: '/srv/lintel/lintel.db',
      databaseWal: '/srv/lintel/lintel.db-wal',
      databaseShm: '/srv/lintel/lintel.db-shm',
      indexSnapshot: '/srv/lintel/lintel.index',
      tokenKey: '/srv/lintel/qr-token.key',
      auditArchive: '/srv/lintel/audit-archive',
      restoreStagePrefix: '/srv/lintel/.restore-',
      linkFiles: [],
    });
    expect(p.databaseKeptAside('20261202T120000Z')).toBe('/srv/lintel/lintel.db.before-restore.20261202T120000Z');
  });

  it('takes a configured key file, and the named files with the link each belongs to', () => {
    const cfg = parseConfig({
      site: { id: 's' },
      dataDir: '/srv/lintel',
      doors: [{ id: 'front' }],
      qr: { keyFile: '/etc/lintel/qr.key' },
      http: { authTokenFile: '/etc/lintel/http.token' },
      mqtt: { url: 'mqtts://broker.example:8883', username: 'gw', passwordFile: '/etc/lintel/mqtt.pw', tls: { caFile: '/etc/lintel/ca.pem' } },
    });
    const p = sitePaths(cfg);
    expect(p.tokenKey).toBe('/etc/lintel/qr.key');
    expect(tokenKeyFile(cfg)).toBe(p.tokenKey);
    expect(p.named).toMatchObject({ httpToken: '/etc/lintel/http.token', mqttPassword: '/etc/lintel/mqtt.pw', mqttTlsCa: '/etc/lintel/ca.pem', upstreamToken: undefined });
    expect(p.linkFiles.map((f) => [f.field, f.path, f.link])).toEqual([
      ['mqtt.passwordFile', '/etc/lintel/mqtt.pw', 'mqtt'],
      ['mqtt.tls.caFile', '/etc/lintel/ca.pem', 'mqtt'],
    ]);
    // A backup carries what sitePaths names, under each file's role.
    expect(siteFiles(cfg)).toEqual([
      { role: 'token-key', path: '/etc/lintel/qr.key' },
      { role: 'http-token', path: '/etc/lintel/http.token' },
      { role: 'mqtt-password', path: '/etc/lintel/mqtt.pw' },
      { role: 'mqtt-tls-ca', path: '/etc/lintel/ca.pem' },
    ]);
  });

  it('a config file\'s relative dataDir gives absolute paths, and the store opens exactly those', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'lintel.yaml');
    writeFileSync(file, 'site: { id: rel }\ndataDir: ./site-data\ndoors: [{ id: front }]\n');
    const cfg = loadConfigFile(file);
    const p = sitePaths(cfg);
    expect(p.database).toBe(join(dir, 'site-data', 'lintel.db'));
    const { store, dbFile } = openSiteStore(cfg);
    cleanups.push(() => store.close());
    expect(dbFile).toBe(p.database);
    expect(store.db.name).toBe(p.database);
  });
});
