import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { VERSION } from '../../src/version.js';
import { CLI, waitFor } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/tmp.js';

/* The built CLI's ergonomics: per-command help, --version, --json on read commands, exit codes as README documents them. */

const lintel = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('lintel CLI ergonomics', () => {
  let dir: string;
  let cleanup: () => void;
  let config: string;

  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    config = join(dir, 'lintel.yaml');
    writeFileSync(config, `site: { id: ux }\ndataDir: ${join(dir, 'data')}\nhttp: { port: 0 }\nmqtt: { url: "mqtt://127.0.0.1:1" }\ndoors: [{ id: front }]\n`);
    const csv = join(dir, 'cards.csv');
    writeFileSync(csv, 'email,name,card,format,doors\nana@example.com,Ana,12345678,decimal,front\n');
    expect(lintel('cards', 'import', csv, '-c', config).status).toBe(0);
  });
  afterAll(() => cleanup());

  it('every command answers --help with its own usage, exit 0', () => {
    for (const cmd of COMMANDS) {
      const r = lintel(...cmd.name.split(' '), '--help');
      expect(r.status, cmd.name).toBe(0);
      expect(r.stdout, cmd.name).toMatch(new RegExp(`^usage: lintel ${cmd.name}`));
      expect(r.stdout, cmd.name).not.toContain('Commands:');
    }
    const group = lintel('people', '--help');
    expect(group.status).toBe(0);
    expect(group.stdout).toContain('usage: lintel people show EMAIL');
    // One CLI start (~0.6 s) per command: the default 20 s no longer holds the 30-odd commands.
  }, COMMANDS.length * 2_000);

  it('usage errors exit 2 with the command’s usage', () => {
    const unknownOption = lintel('people', 'list', '--frob', '-c', config);
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.stderr).toMatch(/Unknown option '--frob'[\s\S]*usage: lintel people list/);
    const extra = lintel('backup', 'a.tgz', 'b.tgz', '-c', config);
    expect(extra.status).toBe(2);
    expect(extra.stderr).toMatch(/unexpected argument "b\.tgz"\nusage: lintel backup/);
    expect(lintel('people', 'show', '-c', config).stderr).toMatch(/missing argument\nusage: lintel people show EMAIL/);
    expect(lintel('people', 'frob').status).toBe(2);
    expect(lintel().status).toBe(2);
  });

  it('--version, plain and as JSON', () => {
    expect(lintel('--version').stdout.trim()).toBe(VERSION);
    expect(lintel('-v').stdout.trim()).toBe(VERSION);
    expect(JSON.parse(lintel('--version', '--json').stdout)).toMatchObject({ lintel: VERSION, node: process.version, schemaVersion: expect.any(Number) });
  });

  it('--json on read commands', () => {
    const list = lintel('people', 'list', '-c', config, '--json');
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([{ email: 'ana@example.com', name: 'Ana', state: 'active', cards: 1, activeCards: 1, grants: 1 }]);
    const show = JSON.parse(lintel('people', 'show', 'ANA@example.com', '-c', config, '--json').stdout) as { credentials: Array<{ card: string }> };
    expect(show.credentials).toEqual([{ card: '******78', format: 'decimal', state: 'active' }]); // masked, as everywhere
    expect(lintel('people', 'show', 'nobody@example.com', '-c', config).status).toBe(2);
    const check = lintel('check-config', config, '--json');
    expect(check.status).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ valid: true, site: 'ux', doors: 1, warnings: [], database: { state: 'current' } });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'site: { id: ux }\ndoors: []\n');
    const invalid = lintel('check-config', bad, '--json');
    expect(invalid.status).toBe(2);
    expect(JSON.parse(invalid.stdout)).toMatchObject({ valid: false, errors: [expect.stringMatching(/^doors: /)] });
  });

  it('run with log.format journal writes <N>-prefixed lines, message first', async () => {
    const journalConfig = join(dir, 'journal.yaml');
    writeFileSync(journalConfig, `site: { id: ux }\ndataDir: ${join(dir, 'data')}\nlog: { format: journal }\nhttp: { port: 0 }\nmqtt: { url: "mqtt://127.0.0.1:1" }\ndoors: [{ id: front }]\n`);
    const child = spawn(process.execPath, [CLI, 'run', '-c', journalConfig], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor('the started line', () => (/^<6>lintel started site=ux /m.test(err) ? true : undefined));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(err).toMatch(/^<6>stopping reason=SIGTERM$/m);
    for (const line of err.split('\n').filter((l) => l !== '')) expect(line).toMatch(/^<[2-7]>[a-z]/);
  });
});
