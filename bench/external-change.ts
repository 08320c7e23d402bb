/**
 * What an external commit costs the running gateway's event loop: a one-row change and a
 * 20,000-person change committed by a second connection into a store of N people, applied by
 * ExternalChangeWatch (longest synchronous stretch = one slice, SLICE_MS), against the full synchronous
 * loadIndex the gateway used to run. Run: npm run build && node dist/bench/external-change.js [people]
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AccessIndex } from '../src/access/access-index.js';
import { neverWaitForLocks, openDatabase } from '../src/store/db.js';
import { readChangeMark } from '../src/store/change-log.js';
import { ExternalChangeWatch } from '../src/store/external-changes.js';
import { loadIndex } from '../src/store/index-loader.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/log.js';
import { tempDir } from '../test/helpers/tmp.js';

const PEOPLE = Number(process.argv[2] ?? 240_000);
const t = tempDir('lintel-ext-');
const file = join(t.dir, 'lintel.db');
const db = openDatabase(file);
db.exec("INSERT INTO doors VALUES ('front', 'front')");
db.transaction(() => {
  const p = db.prepare('INSERT INTO people (id, email, created_at, updated_at) VALUES (?, ?, 0, 0)');
  const c = db.prepare("INSERT INTO credentials (person_id, number, format, created_at, updated_at) VALUES (?, ?, 'decimal', 0, 0)");
  const g = db.prepare("INSERT INTO grants (person_id, door_id, source, source_id) VALUES (?, 'front', 'staff', 'x')");
  for (let i = 1; i <= PEOPLE; i++) {
    p.run(i, `p${i}@example.com`);
    c.run(i, String(10_000_000 + i));
    g.run(i);
  }
})();
neverWaitForLocks(db);
const index = new AccessIndex();
const mark = readChangeMark(db);
const start = performance.now();
loadIndex(db, index);
const fullMs = performance.now() - start;

// Longest synchronous stretch of a poll: time between the loop getting control back.
async function timedPoll(watch: ExternalChangeWatch): Promise<{ totalMs: number; longestMs: number }> {
  let longest = 0;
  let last = performance.now();
  let done = false;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  const begin = performance.now();
  last = begin;
  await watch.poll();
  done = true;
  const end = performance.now();
  longest = Math.max(longest, end - last);
  return { totalMs: end - begin, longestMs: longest };
}

const watch = new ExternalChangeWatch({ db, clock: systemClock, logger: silentLogger, index: () => index, swap: () => undefined, from: mark });
const other = new Database(file);
other.prepare("INSERT INTO credentials (person_id, number, format, created_at, updated_at) VALUES (42, '99990001', 'decimal', 0, 0)").run();
const one = await timedPoll(watch);
other.prepare('UPDATE credentials SET updated_at = 1 WHERE person_id <= 20000').run();
const many = await timedPoll(watch);
console.log(`store of ${PEOPLE} people; external commit by a second connection, applied by the watcher:`);
console.log(`  full synchronous loadIndex (the old reaction) : ${fullMs.toFixed(0)} ms on the loop`);
console.log(`  one-row change    : ${one.totalMs.toFixed(2)} ms total, longest loop stretch ${one.longestMs.toFixed(2)} ms`);
console.log(`  20,000-person change: ${many.totalMs.toFixed(0)} ms total, longest loop stretch ${many.longestMs.toFixed(1)} ms`);
console.log(`  watcher stats: ${JSON.stringify(watch.stats())}`);
other.close();
db.close();
t.cleanup();
