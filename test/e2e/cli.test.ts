import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

/* The built `lintel` command as an operator uses it: exit codes and messages. */

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const lintel = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('lintel CLI', () => {
  let dir: string;
  let cleanup: () => void;
  let config: string;

  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    config = join(dir, 'lintel.yaml');
    writeFileSync(config, `site: { id: cli }\ndataDir: ${join(dir, 'data')}\ndoors: [{ id: front }]\n`);
  });
  afterAll(() => cleanup());

  it('--help lists every command; no command is a usage error', () => {
    const help = lintel('--help');
    expect(help.status).toBe(0);
    for (const cmd of ['run', 'demo', 'check-config', 'cards import', 'qr issue']) expect(help.stdout).toContain(cmd);
    expect(lintel().status).toBe(2);
    expect(lintel('frobnicate').stderr).toMatch(/unknown command/);
  });

  it('check-config: OK with a summary, or exit 2 with path-labelled errors', () => {
    const ok = lintel('check-config', config);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/OK — site cli, 1 doors/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'site: { id: cli }\ndoors:\n  - { id: a }\n  - { id: b }\n  - { id: c, pulseMs: long }\n');
    const res = lintel('check-config', bad);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/doors\[2\]\.pulseMs: .*expected number/);
  });

  it('cards import: a bad file changes nothing and says which line; a good one is applied', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'email,name,card,format,doors\nana@example.com,Ana,1001,decimal,front\nnot-an-email,X,1002,decimal,front\n');
    const rejected = lintel('cards', 'import', bad, '-c', config);
    expect(rejected.status).toBe(2);
    expect(rejected.stderr).toMatch(/line 3: email/);
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'email,name,card,format,doors\nana@example.com,Ana,1001,decimal,front\n');
    const applied = lintel('cards', 'import', good, '-c', config);
    expect(applied.status).toBe(0);
    expect(applied.stdout).toContain('imported 1 cards for 1 people, 1 staff grants');
  });

  it('qr issue: a token for a known person, exit 2 for an unknown one', () => {
    const res = lintel('qr', 'issue', 'ana@example.com', '-c', config);
    expect(res.status).toBe(0);
    expect(res.stdout.trim()).toMatch(/^LT2\.[A-Za-z0-9_-]{39}\.[A-Za-z0-9_-]{22}$/);
    expect(res.stderr).toMatch(/valid until/);
    const unknown = lintel('qr', 'issue', 'nobody@example.com', '-c', config);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim()).toBe('no person with that email');
    expect(unknown.stdout).toBe('');
  });
});
