import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

/*
 * The README's site install, run as written (less `sudo`) in a copy of the tracked tree: a new
 * integrator follows the README, not package.json. It once said `npm ci --omit=dev`, which runs
 * the `prepare` script, which needs tsc, a dev dependency (`sh: 1: tsc: not found`). The npm
 * commands are read from the README itself, so the test fails whenever the documented step does.
 * Slow (npm ci builds the native modules: about a minute), so it runs in its own project, last.
 */

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The npm lines of the README's "Running it on a site" block, without sudo or trailing comments. */
function documentedNpmSteps(): string[] {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Running it on a site'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  // Only the npm commands themselves, each `&&` part on its own: the block also copies the tree
  // into /opt and writes /etc, which a test must never do to the machine it runs on.
  return block
    .split('\n')
    .flatMap((line) => line.replace(/\s+#.*$/, '').split('&&'))
    .map((part) => part.trim().replace(/^sudo\s+/, ''))
    .filter((part) => /^npm\s/.test(part));
}

describe('the README site install', () => {
  const tmp = tempDir('lintel-install-');
  afterAll(() => tmp.cleanup());

  it('installs, builds and leaves no dev dependency; the installed CLI answers', () => {
    const steps = documentedNpmSteps();
    expect(steps.length, 'the README names its npm install steps').toBeGreaterThan(0);
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      if (!existsSync(join(repo, f))) continue; // deleted in the working tree
      mkdirSync(dirname(join(tmp.dir, f)), { recursive: true });
      copyFileSync(join(repo, f), join(tmp.dir, f));
    }
    for (const step of steps) {
      const run = spawnSync('bash', ['-c', step], {
        cwd: tmp.dir,
        encoding: 'utf8',
        env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' },
      });
      expect(run.status, `${step}\n${run.stderr.slice(-2000)}`).toBe(0);
    }
    expect(existsSync(join(tmp.dir, 'node_modules', 'typescript')), 'dev dependencies pruned').toBe(false);
    const version = spawnSync(process.execPath, ['dist/src/cli.js', '--version'], { cwd: tmp.dir, encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // The example config is sound apart from the secret files a site has not written yet: exit 1, warnings.
    const check = spawnSync(process.execPath, ['dist/src/cli.js', 'check-config', 'examples/lintel.yaml'], { cwd: tmp.dir, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(1);
    expect(check.stdout).toContain('valid, with warnings');
  }, 600_000);
});
