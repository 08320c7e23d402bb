/**
 * The main thread's GC pauses while the change watcher applies a 100,000-person commit of
 * another connection (what follows an API bulk or a `cards import`; issue 12's bulk phase):
 * the rows read by the refresh worker, filled in slices on this thread, as in `lintel run`.
 * Pauses come from perf_hooks' gc entries (this thread's isolate only).
 *
 *   npm run build && node dist/bench/bulk-apply-gc.js [people=100000]
 *   node --no-parallel-scavenge dist/bench/bulk-apply-gc.js        # scavenges without V8's helper threads
 *   HEAPPROF=/tmp/fill.heapprofile node dist/bench/bulk-apply-gc.js  # where the fill allocates
 *
 * Pause lengths are wall time: on a loaded machine they include waiting for CPU, which is the
 * point (a helper thread not scheduled keeps the main thread waiting); compare runs in turns.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { AccessIndex } from '../src/access/access-index.js';
import { readChangeMark } from '../src/store/change-log.js';
import { neverWaitForLocks, openDatabase } from '../src/store/db.js';
import { ExternalChangeWatch } from '../src/store/external-changes.js';
import { loadIndex } from '../src/store/index-loader.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';
import { tempDir } from '../test/helpers/tmp.js';

const PEOPLE = Number(process.argv[2] ?? 100_000);
const t = tempDir('lintel-bulkgc-');
const file = join(t.dir, 'lintel.db');
const db = openDatabase(file);
db.exec("INSERT INTO doors VALUES ('front', 'front')");
neverWaitForLocks(db);
const index = new AccessIndex();
const mark = readChangeMark(db);
loadIndex(db, index);
// The bulk's commit, by another connection: one person, card and grant each.
const other = new Database(file);
other.transaction(() => {
  const p = other.prepare('INSERT INTO people (id, email, created_at, updated_at) VALUES (?, ?, 0, 0)');
  const c = other.prepare("INSERT INTO credentials (person_id, number, format, created_at, updated_at) VALUES (?, ?, 'decimal', 0, 0)");
  const g = other.prepare("INSERT INTO grants (person_id, door_id, source, source_id) VALUES (?, 'front', 'staff', 'x')");
  for (let i = 1; i <= PEOPLE; i++) {
    p.run(i, `p${i}@example.com`);
    c.run(i, String(10_000_000 + i));
    g.run(i);
  }
})();

const pauses = { minor: [] as number[], major: [] as number[] };
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    (kind === constants.NODE_PERFORMANCE_GC_MINOR ? pauses.minor : pauses.major).push(e.duration);
  }
});
const session = process.env.HEAPPROF ? new Session() : null;
if (session) {
  session.connect();
  // Collected objects included: the garbage is what the scavenges pay for.
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
}
const watch = new ExternalChangeWatch({ db, clock: systemClock, logger: silentLogger, index: () => index, swap: () => undefined, from: mark, workerReads: true });
observer.observe({ entryTypes: ['gc'] });
const t0 = performance.now();
await watch.poll();
const ms = performance.now() - t0;
observer.disconnect();
if (session) {
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: unknown };
  writeFileSync(process.env.HEAPPROF!, JSON.stringify(profile));
}
const summary = (v: number[]) => ({ n: v.length, sumMs: Math.round(v.reduce((a, b) => a + b, 0) * 10) / 10, maxMs: Math.round(Math.max(0, ...v) * 10) / 10, over2ms: v.filter((x) => x > 2).length });
console.log(`${PEOPLE} people applied in ${Math.round(ms)} ms`);
console.log(`  main-thread scavenges: ${JSON.stringify(summary(pauses.minor))}; mark-compacts: ${JSON.stringify(summary(pauses.major))}`);
watch.stop();
other.close();
db.close();
t.cleanup();
process.exit(0);
