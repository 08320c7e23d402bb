/**
 * Commit latency of one small operator change (a credential insert through Store.transact) at
 * synchronous=FULL, as operator changes now commit, against NORMAL (the audit log, re-derivable
 * writes). FULL fsyncs the WAL on every commit; NORMAL leaves that to the checkpoint.
 * Run: npm run build && node dist/bench/durability.js [commits]   (figures: docs/durability.md)
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/store/db.js';
import { assignCredential, upsertPerson } from '../src/store/people.js';
import { Store, type Durability } from '../src/store/store.js';
import { AuditLog } from '../src/store/audit.js';
import { tempDir } from '../test/helpers/tmp.js';
import { fmtUs, percentiles } from './stats.js';

const COMMITS = Number(process.argv[2] ?? 1000);
const t = tempDir('lintel-durability-');
const store = new Store(openDatabase(join(t.dir, 'lintel.db')));
const audit = new AuditLog(store.db);

function credentialCommits(durability: Durability, offset: number): number[] {
  const samples: number[] = [];
  for (let i = 0; i < COMMITS; i++) {
    const n = offset + i;
    const start = performance.now();
    store.transact((tx) => assignCredential(tx, upsertPerson(tx, `p${n}@example.com`, null, 0), String(1_000_000 + n), 'decimal', 'active', 0), { durability });
    samples.push((performance.now() - start) * 1e6);
  }
  return samples;
}

function auditCommits(): number[] {
  const samples: number[] = [];
  const row = { at: 0, readerId: 'r', doorId: 'front', credential: '**61', personId: null, result: 'denied' as const, reason: 'unknown_credential', relay: 'none' as const };
  for (let i = 0; i < COMMITS; i++) {
    const start = performance.now();
    audit.appendMany([row]);
    samples.push((performance.now() - start) * 1e6);
  }
  return samples;
}

credentialCommits('normal', 10_000_000); // warm-up
const show = (label: string, s: number[]) => {
  const p = percentiles(s);
  console.log(`${label.padEnd(34)} p50 ${fmtUs(p.p50).padStart(12)}  p99 ${fmtUs(p.p99).padStart(12)}  max ${fmtUs(p.max).padStart(12)}`);
};
console.log(`${COMMITS} commits each, one row per commit, WAL, file in ${process.env.TMPDIR ?? '/tmp'}`);
show('credential, synchronous=FULL', credentialCommits('full', 0));
show('credential, synchronous=NORMAL', credentialCommits('normal', 20_000_000));
show('audit row (NORMAL)', auditCommits());
store.close();
t.cleanup();
