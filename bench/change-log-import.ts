/**
 * What migration 6's change-log triggers cost a `lintel cards import`: the same CSV of N rows
 * (one person, card and staff grant each) imported into a fresh database at schema 5 (no
 * triggers) and at schema 6, alternating, best of three each.
 * Run: npm run build && node dist/bench/change-log-import.js [rows]
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importCards } from '../src/store/card-import.js';
import { openDatabase } from '../src/store/db.js';
import { syncDoorsAndResources } from '../src/store/doors.js';
import { migrations } from '../src/store/migrations.js';
import { Store } from '../src/store/store.js';
import { tempDir } from '../test/helpers/tmp.js';

const ROWS = Number(process.argv[2] ?? 100_000);
const csv = ['email,name,card,format,doors', ...Array.from({ length: ROWS }, (_, i) => `p${i}@example.com,P ${i},${10_000_000 + i},decimal,front`)].join('\n');

function importOnce(schema: number): number {
  const t = tempDir('lintel-cl-');
  const store = new Store(openDatabase(join(t.dir, 'lintel.db'), migrations.filter((m) => m.version <= schema)));
  store.transact((tx) => syncDoorsAndResources(tx, [{ id: 'front', name: 'front' }], new Map()));
  const start = performance.now();
  importCards(store, csv, 0);
  const ms = performance.now() - start;
  store.close();
  t.cleanup();
  return ms;
}

const best = { 5: Infinity, 6: Infinity } as Record<number, number>;
for (let round = 0; round < 3; round++) for (const schema of [5, 6]) best[schema] = Math.min(best[schema]!, importOnce(schema));
console.log(`cards import of ${ROWS} rows (parse + validate + one transaction), best of 3:`);
console.log(`  schema 5, no change-log triggers : ${best[5]!.toFixed(0)} ms`);
console.log(`  schema 6, change-log triggers    : ${best[6]!.toFixed(0)} ms  (+${(((best[6]! - best[5]!) / best[5]!) * 100).toFixed(1)} %)`);
