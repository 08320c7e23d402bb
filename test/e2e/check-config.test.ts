import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/tmp.js';

/* `lintel check-config` refuses what `lintel run` would refuse, and says what run would show as a fault. */

describe('lintel check-config', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((c) => c()));

  function check(lines: (dir: string) => string[]) {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const file = join(dir, 'lintel.yaml');
    writeFileSync(file, [...lines(dir), ''].join('\n'));
    const r = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8' });
    return { dir, code: r.status, out: r.stdout + r.stderr };
  }

  it('fails a non-loopback bind without an operator token, as run does', () => {
    const r = check(() => ['site: { id: hq }', 'http: { host: 0.0.0.0 }', 'doors: [{ id: front }]']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/http\.host: 0\.0\.0\.0 is not loopback: set http\.authToken or http\.authTokenFile/);
  });

  it('fails a host that only looks like loopback', () => {
    const r = check(() => ['site: { id: hq }', 'http: { host: 127.0.0.1.nip.io }', 'doors: [{ id: front }]']);
    expect(r.code).toBe(2);
  });

  it('fails an operator token file that others can read', () => {
    const r = check((d) => {
      writeFileSync(join(d, 'http-token'), 'tok\n', { mode: 0o644 });
      return ['site: { id: hq }', `http: { host: 0.0.0.0, authTokenFile: ${join(d, 'http-token')} }`, 'doors: [{ id: front }]'];
    });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/http\.authTokenFile: .* is readable by group\/others/);
  });

  it('warns (exit 1) about a missing link secret that run would start without, naming the consequence', () => {
    const r = check((d) => ['site: { id: hq }', `mqtt: { url: "mqtt://b:1883", passwordFile: ${join(d, 'nope')} }`, 'doors: [{ id: front }]']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/mqtt\.passwordFile: cannot read/);
  });

  it('passes a sound file', () => {
    const r = check(() => ['site: { id: hq }', 'doors: [{ id: front }]']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/OK/);
  });
});
