import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tuneGcForLatency } from '../../src/util/gc-tuning.js';

/*
 * What the flag changes, seen from outside: with --trace-gc-nvp V8 reports, per scavenge, the
 * time its helper threads spent copying (background.scavenge.parallel). A child process keeps
 * enough young objects alive that V8 would share that copy; after tuneGcForLatency() none is
 * shared. The built module is used: the child runs plain node.
 */
const built = fileURLToPath(new URL('../../dist/src/util/gc-tuning.js', import.meta.url));
const workload = `
  const { tuneGcForLatency } = await import(${JSON.stringify(built)});
  console.log('changed=' + tuneGcForLatency());
  const ring = new Array(300000); let i = 0;
  for (let n = 0; n < 3e6; n++) { ring[i] = { n }; i = (i + 1) % ring.length; }
`;

function helperScavengeMs(nodeArgs: string[]): { changed: string | undefined; helperMs: number; scavenges: number } {
  const run = spawnSync(process.execPath, [...nodeArgs, '--trace-gc-nvp', '--input-type=module', '-e', workload], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const lines = run.stdout.split('\n').filter((l) => / gc=s /.test(l));
  const helperMs = lines.reduce((sum, l) => sum + Number(/background\.scavenge\.parallel=([\d.]+)/.exec(l)?.[1] ?? 0), 0);
  return { changed: /changed=(\w+)/.exec(run.stdout)?.[1], helperMs, scavenges: lines.length };
}

describe('tuneGcForLatency', () => {
  it('turns parallel scavenge off: no scavenge work is left to helper threads', () => {
    const tuned = helperScavengeMs([]);
    expect(tuned.changed).toBe('true');
    expect(tuned.scavenges).toBeGreaterThan(3);
    expect(tuned.helperMs).toBe(0);
  });

  it('leaves an explicit choice on node\'s command line as it is (how the benches compare both)', () => {
    const explicit = helperScavengeMs(['--parallel-scavenge']);
    expect(explicit.changed).toBe('false');
    expect(explicit.helperMs).toBeGreaterThan(0);
    expect(tuneGcForLatency(['--no-parallel-scavenge'])).toBe(false);
  });
});
