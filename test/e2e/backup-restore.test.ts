import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, GatewayProcess } from '../helpers/gateway-process.js';
import { OtherProcess } from '../helpers/lock-holder.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * `lintel backup` → wipe → `lintel restore` with the built CLI on a real site: a database with
 * people, cards and grants, the token key and two secret files of different modes.
 */

const lintel = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('lintel backup and restore', () => {
  let dir: string;
  let cleanup: () => void;
  let config: string;
  let dbFile: string;
  let keyFile: string;
  let httpToken: string;
  let mqttPassword: string;

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    config = join(dir, 'lintel.yaml');
    dbFile = join(dir, 'data', 'lintel.db');
    keyFile = join(dir, 'data', 'qr-token.key');
    httpToken = join(dir, 'secrets', 'http-token');
    mqttPassword = join(dir, 'secrets', 'mqtt-password');
    lintel('--version'); // warm the build's first load
    spawnSync('mkdir', ['-p', join(dir, 'secrets')]);
    writeFileSync(httpToken, 'operator-token\n', { mode: 0o600 });
    writeFileSync(mqttPassword, 'broker-pass\n', { mode: 0o400 });
    writeFileSync(
      config,
      [
        'site: { id: br }',
        `dataDir: ${join(dir, 'data')}`,
        `http: { port: 0, authTokenFile: ${httpToken} }`,
        `mqtt: { url: "mqtt://127.0.0.1:1", username: gw, passwordFile: ${mqttPassword} }`,
        'doors: [{ id: front }, { id: back }]',
        '',
      ].join('\n'),
    );
    const csv = join(dir, 'cards.csv');
    writeFileSync(csv, 'email,name,card,format,doors\nana@example.com,Ana,1001,decimal,front\nbo@example.com,Bo,1002,decimal,front;back\n');
    expect(lintel('cards', 'import', csv, '-c', config).status).toBe(0);
    expect(lintel('people', 'suspend', 'bo@example.com', '-c', config).status).toBe(0);
  });
  afterEach(() => cleanup());

  function rows() {
    const db = new Database(dbFile, { readonly: true });
    try {
      return {
        people: db.prepare('SELECT email, name, state, tokens_valid_after FROM people ORDER BY email').all(),
        cards: db.prepare('SELECT c.number, c.state, p.email FROM credentials c JOIN people p ON p.id = c.person_id ORDER BY number').all(),
        grants: db.prepare('SELECT p.email, g.door_id, g.source FROM grants g JOIN people p ON p.id = g.person_id ORDER BY 1, 2').all(),
      };
    } finally {
      db.close();
    }
  }
  const mode = (f: string) => statSync(f).mode & 0o777;
  function site() {
    return {
      rows: rows(),
      key: readFileSync(keyFile).toString('hex'),
      secrets: [readFileSync(httpToken, 'utf8'), readFileSync(mqttPassword, 'utf8')],
      modes: [dbFile, keyFile, httpToken, mqttPassword].map(mode),
    };
  }

  it('round trip: same rows, same key, same secrets, same modes', () => {
    chmodSync(dbFile, 0o640);
    const before = site();
    expect(before.rows.people).toHaveLength(2);
    expect(before.rows.grants).toHaveLength(3);
    const archive = join(dir, 'site.tar.gz');
    const b = lintel('backup', archive, '-c', config);
    expect(b.status, b.stderr).toBe(0);
    expect(mode(archive)).toBe(0o600);
    expect(lintel('backup', archive, '-c', config).status).toBe(1); // never over an existing file

    rmSync(join(dir, 'data'), { recursive: true });
    rmSync(join(dir, 'secrets'), { recursive: true });
    const r = lintel('restore', archive, '-c', config);
    expect(r.status, r.stderr).toBe(0);
    expect(site()).toEqual(before);
    // The restored site works: the CLI reads it like before.
    expect(JSON.parse(lintel('people', 'show', 'bo@example.com', '-c', config, '--json').stdout)).toMatchObject({ state: 'suspended', cards: 1 });
  });

  it('refuses to overwrite differing data without --force, and keeps the old database aside with it', () => {
    const archive = join(dir, 'site.tar.gz');
    expect(lintel('backup', archive, '-c', config).status).toBe(0);
    const before = site();
    writeFileSync(httpToken, 'rotated-token\n', { mode: 0o600 });
    expect(lintel('people', 'reinstate', 'bo@example.com', '-c', config).status).toBe(0);
    const refused = lintel('restore', archive, '-c', config);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain(httpToken);
    expect(readFileSync(httpToken, 'utf8')).toBe('rotated-token\n');
    const forced = lintel('restore', archive, '-c', config, '--force');
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/kept the replaced database as .*lintel\.db\.before-restore\./);
    expect(site()).toEqual(before);
  });

  it('refuses while another process has the database open', async () => {
    const archive = join(dir, 'site.tar.gz');
    expect(lintel('backup', archive, '-c', config).status).toBe(0);
    const other = new OtherProcess(dbFile);
    try {
      await other.exec('SELECT 1');
      const r = lintel('restore', archive, '-c', config, '--force');
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/is open in another process .*stop it first/);
    } finally {
      await other.close();
    }
  });

  it('refuses while lintel run is running on the data dir; backup works meanwhile', async () => {
    const gateway = new GatewayProcess(config);
    try {
      await gateway.started();
      const archive = join(dir, 'live.tar.gz');
      const b = lintel('backup', archive, '-c', config);
      expect(b.status, b.stderr).toBe(0);
      const r = lintel('restore', archive, '-c', config, '--force');
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/running gateway/);
    } finally {
      await gateway.stop();
    }
    // Stopped, the live backup restores.
    rmSync(join(dir, 'data'), { recursive: true });
    expect(lintel('restore', join(dir, 'live.tar.gz'), '-c', config).status).toBe(0);
    expect(rows().people).toHaveLength(2);
  });

  it('refuses an altered archive and changes nothing', () => {
    const archive = join(dir, 'site.tar.gz');
    expect(lintel('backup', archive, '-c', config).status).toBe(0);
    const cut = join(dir, 'cut.tar.gz');
    const bytes = readFileSync(archive);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    rmSync(join(dir, 'data'), { recursive: true });
    const r = lintel('restore', cut, '-c', config);
    expect(r.status).toBe(3);
    expect(() => statSync(dbFile)).toThrow();
  });
});
