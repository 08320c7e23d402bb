/**
 * What naming members by subject costs the index at load: HMAC-SHA256 of every email (the
 * subject, src/qr/member-subject.ts) and the subject table, for 1,000,000 people with one grant
 * and one card each, against the same load without subjects.
 * Run: npm run build && node --expose-gc dist/bench/member-subjects.js [people]
 * Each load runs in its own child process, so that one's memory does not count in the other's.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { AccessIndex, type PersonInput } from '../src/access/access-index.js';
import { memberSubjectOf } from '../src/qr/member-subject.js';

const PEOPLE = Number(process.argv[2] ?? 1_000_000);
const NOW = Date.parse('2026-11-22T10:00:00Z');
const subjectOf = memberSubjectOf(randomBytes(32));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const emails: string[] = new Array(PEOPLE);
for (let i = 0; i < PEOPLE; i++) emails[i] = `member${i}@example.com`;

function person(i: number): PersonInput {
  return {
    id: i + 1,
    email: emails[i],
    active: true,
    tokensValidAfter: 0,
    grants: [{ door: 'front', from: NOW - 3600_000, to: NOW + 3600_000 }],
    cards: [{ number: String(1_000_000_000 + i), active: true }],
  };
}

function load(withSubjects: boolean): { ms: number; bytes: number } {
  gc();
  const t0 = performance.now();
  const index = new AccessIndex(withSubjects ? { subjectOf } : {});
  index.setDoors(['front']);
  for (let i = 0; i < PEOPLE; i++) index.putPerson(person(i));
  const ms = performance.now() - t0;
  gc();
  const bytes = index.tableBytes(); // memoryUsage().arrayBuffers misses the pool's resizable buffer
  if (withSubjects && index.subjectCollisions() !== 0) throw new Error('unexpected subject collision');
  return { ms, bytes };
}

const mode = process.argv[3];
if (mode === 'with' || mode === 'without') {
  const r = load(mode === 'with');
  console.log(`  index load ${mode.padEnd(7)} subjects  ${r.ms.toFixed(0)} ms, typed arrays ${(r.bytes / 2 ** 20).toFixed(1)} MiB`);
} else {
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < PEOPLE; i++) sink ^= subjectOf(emails[i]!).lo;
  const hashMs = performance.now() - t0;
  console.log(`member subjects, ${PEOPLE.toLocaleString()} people (checksum ${sink >>> 0})`);
  console.log(`  HMAC-SHA256 subjects alone     ${hashMs.toFixed(0)} ms (${((hashMs * 1000) / PEOPLE).toFixed(2)} µs each)`);
  for (const m of ['without', 'with']) {
    execFileSync(process.execPath, ['--expose-gc', process.argv[1]!, String(PEOPLE), m], { stdio: 'inherit' });
  }
}
