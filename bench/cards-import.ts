/**
 * `lintel cards import` of the scale bench's CSV (one person, one decimal card and one door a
 * row; bench/hardening-data.ts) into a fresh data dir, as its own process: wall time, CPU time
 * (user + sys) and peak RSS (max RSS, as VmHWM) of the child from /usr/bin/time, rows/s, and the
 * 1-minute load average before and after (the VM is shared: CPU time is the figure that does
 * not depend on the neighbours).
 * Run: npm run build && node dist/bench/cards-import.js [rows] [runs]
 * Env: LINTEL_CLI, another build's dist/src/cli.js to measure it on the same file (old vs new).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, doorId, writeCardCsv } from './hardening-data.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 1);
const DOORS = 20;
const cli = process.env.LINTEL_CLI ?? CLI;

const dir = mkdtempSync(join(tmpdir(), 'lintel-import-bench-'));
try {
  const csv = join(dir, 'cards.csv');
  writeCardCsv(csv, 0, ROWS, DOORS);
  console.log(`cards import bench: ${ROWS.toLocaleString()} rows, ${(statSync(csv).size / 1048576).toFixed(1)} MB, cli ${cli}`);
  for (let run = 0; run < RUNS; run++) {
    const data = join(dir, `data${run}`);
    const config = join(dir, `lintel${run}.yaml`);
    writeFileSync(config, [`site: { id: bench }`, `dataDir: ${data}`, 'doors:', ...Array.from({ length: DOORS }, (_, k) => `  - { id: ${doorId(k)} }`), ''].join('\n'));
    const timing = join(dir, `time${run}.txt`);
    const loadBefore = loadavg()[0]!;
    const child = spawnSync('/usr/bin/time', ['-o', timing, '-f', '%e %U %S %M', process.execPath, cli, 'cards', 'import', csv, '-c', config], { encoding: 'utf8' });
    const loadAfter = loadavg()[0]!;
    if (child.status !== 0) throw new Error(`import failed (${child.status}): ${child.stdout}${child.stderr}`);
    const [wall, user, sys, maxKb] = readFileSync(timing, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
    console.log(
      `  run ${run + 1}: wall ${wall.toFixed(2)} s, CPU ${(user + sys).toFixed(2)} s (user ${user.toFixed(2)}, sys ${sys.toFixed(2)}), ` +
        `peak RSS ${(maxKb / 1024).toFixed(0)} MB, ${Math.round(ROWS / wall).toLocaleString()} rows/s, load ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}` +
        `  [${child.stdout.trim().split('\n').pop()}]`,
    );
    rmSync(data, { recursive: true, force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
