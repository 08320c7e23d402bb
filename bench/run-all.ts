/**
 * Every bench in turn, each in its own process (a bench's heap, JIT state and caches must not
 * colour the next one's figures). Run: npm run bench   (which is: node dist/bench/run-all.js)
 * A bench that fails is reported and the rest still run; the exit code says whether all passed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES: { file: string; nodeArgs?: string[] }[] = [
  { file: 'decision.js', nodeArgs: ['--expose-gc'] },
  { file: 'reconcile.js' },
  { file: 'schedule.js' },
  { file: 'callback.js' },
  { file: 'qr-token.js' },
  { file: 'card-formats.js' },
  { file: 'hid-decode.js' },
  { file: 'e2e-pty.js' }, // needs socat and mosquitto
  { file: 'broker-stall.js' }, // needs mosquitto; fails if any unlock ran after its expiresAt
  { file: 'hardening.js' }, // issue 9: needs socat and mosquitto, ~2 min, ~2.5 GB (a 1M-card database and gateway)
];

let failed = 0;
for (const bench of BENCHES) {
  console.log(`\n== ${bench.file}`);
  const path = fileURLToPath(new URL(`./${bench.file}`, import.meta.url));
  const run = spawnSync(process.execPath, [...(bench.nodeArgs ?? []), path], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.log(`!! ${bench.file} exited with ${run.status ?? run.signal}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
