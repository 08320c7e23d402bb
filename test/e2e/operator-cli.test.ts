import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/console/passwords.js';
import { CLI } from '../helpers/cli-path.js';
import { useCliSite } from '../helpers/cli-site.js';

/* `lintel operator add|list|remove|passwd` as an operator runs it (the built CLI): the password from stdin or a file, never printed nor stored in clear. */

describe('lintel operator', () => {
  const site = useCliSite();
  /** The built CLI with `input` on its standard input (a pipe, as a script gives it). */
  const lintel = (input: string, ...args: string[]) => spawnSync(process.execPath, [CLI, ...args, '-c', site.config], { encoding: 'utf8', input, timeout: 60_000 });
  const db = () => new Database(join(site.dir, 'data', 'lintel.db'), { readonly: true });

  it('adds from stdin and from a file, lists without hashes, changes a password, removes; a change-audit row each', async () => {
    const added = lintel('alice password 1\nignored second line\n', 'operator', 'add', 'alice', '--role', 'operator', '--json');
    expect(added.status, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'alice', role: 'operator' });
    expect(added.stdout + added.stderr).not.toContain('alice password 1');
    const file = join(site.dir, 'bob.pw');
    writeFileSync(file, 'bob long password\n', { mode: 0o600 });
    expect(lintel('', 'operator', 'add', 'bob', '--role', 'admin', '--password-file', file).status).toBe(0);

    const listed = lintel('', 'operator', 'list', '--json');
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { name: 'alice', role: 'operator' },
      { name: 'bob', role: 'admin' },
    ]);
    expect(listed.stdout).not.toContain('scrypt');
    expect(lintel('', 'operator', 'list').stdout).toMatch(/^alice\s+operator\s+created /);

    expect(lintel('a brand new password\n', 'operator', 'passwd', 'alice').status).toBe(0);
    expect(lintel('', 'operator', 'remove', 'bob').status).toBe(0);
    expect(lintel('', 'operator', 'remove', 'bob').status).toBe(1);

    const d = db();
    try {
      const row = d.prepare("SELECT password_hash AS h FROM operators WHERE name = 'alice'").get() as { h: string };
      expect(await verifyPassword('a brand new password', row.h)).toBe(true);
      expect(await verifyPassword('alice password 1', row.h)).toBe(false);
      const audit = d.prepare('SELECT actor, action, target FROM change_audit ORDER BY id').all() as { actor: string; action: string; target: string }[];
      expect(audit.map((a) => [a.action, a.target])).toEqual([
        ['operator.add', 'alice'],
        ['operator.add', 'bob'],
        ['operator.passwd', 'alice'],
        ['operator.remove', 'bob'],
      ]);
      expect(audit.every((a) => a.actor.startsWith('cli:'))).toBe(true);
    } finally {
      d.close();
    }
    // A dozen CLI starts and four scrypt hashes at the production cost: more than the default 20 s on a busy box.
  }, 120_000);

  it('refuses a short password, a bad role or name and a taken name with exit 2, an unknown account with exit 1, and writes nothing', () => {
    const before = lintel('', 'operator', 'list', '--json').stdout;
    const short = lintel('too short\n', 'operator', 'add', 'carol', '--role', 'viewer');
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/at least 12 characters/);
    expect(short.stderr).not.toContain('too short');
    const role = lintel('a long enough password\n', 'operator', 'add', 'carol', '--role', 'root');
    expect(role.status).toBe(2);
    expect(role.stderr).toMatch(/usage: lintel operator add/);
    expect(lintel('a long enough password\n', 'operator', 'add', 'has space', '--role', 'viewer').status).toBe(2);
    expect(lintel('a long enough password\n', 'operator', 'add', 'alice', '--role', 'viewer').status).toBe(2);
    expect(lintel('a long enough password\n', 'operator', 'passwd', 'nobody').status).toBe(1);
    expect(lintel('short\n', 'operator', 'passwd', 'alice').status).toBe(2);
    expect(lintel('', 'operator', 'add', 'dave', '--role', 'viewer', '--password-file', join(site.dir, 'missing')).status).toBe(2);
    expect(lintel('', 'operator', 'list', '--json').stdout).toBe(before);
    const d = db();
    try {
      expect((d.prepare('SELECT COUNT(*) AS n FROM change_audit').get() as { n: number }).n).toBe(4);
    } finally {
      d.close();
    }
  }, 120_000);
});
