/**
 * Member QR token verification latency: 100,000 verifications of distinct valid tokens, plus
 * the full QrAccess decision (verify + subject lookup + revocation + decidePerson) for the same tokens.
 * Run: npm run build && node dist/bench/qr-token.js
 * Target: verification p99 ≤ 20 µs. Prints p50/p99/p99.9 for both, and tamper-rejection cost.
 */
import { randomBytes } from 'node:crypto';
import { AccessIndex } from '../src/access/access-index.js';
import { FailureGuard } from '../src/access/failure-guard.js';
import { memberSubjectOf } from '../src/qr/member-subject.js';
import { encodeMemberToken, verifyMemberToken } from '../src/qr/member-token.js';
import { QrAccess } from '../src/qr/qr-access.js';
import type { Clock } from '../src/util/clock.js';
import { fmtUs, percentiles } from './stats.js';

const N = 100_000;
const PEOPLE = 10_000;
const NOW = Date.parse('2026-11-22T10:00:00Z');
const key = randomBytes(32);

const subjectOf = memberSubjectOf(key);
const index = new AccessIndex({ subjectOf });
index.setDoors(['front']);
const email = (id: number) => `member${id}@example.com`;
for (let id = 1; id <= PEOPLE; id++) {
  index.putPerson({ id, email: email(id), active: true, tokensValidAfter: 0, grants: [{ door: 'front', from: NOW - 3600_000, to: NOW + 3600_000 }], cards: [] });
}
const tokens: string[] = new Array(N);
for (let i = 0; i < N; i++) {
  tokens[i] = encodeMemberToken(key, { subject: subjectOf(email(1 + (i % PEOPLE))), issuedAt: NOW - 60_000, expiresAt: NOW + 240_000 });
}
const tampered = tokens.map((t, i) => {
  // Past the key id (chars 4–10), so that the tampered token still costs its HMAC.
  const pos = 11 + (i % 28);
  return t.slice(0, pos) + (t[pos] === 'A' ? 'B' : 'A') + t.slice(pos + 1);
});

function measure(label: string, fn: (i: number) => boolean): void {
  for (let i = 0; i < 20_000; i++) fn(i % N); // warm up the JIT
  const samples = new Float64Array(N);
  let ok = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const s = process.hrtime.bigint();
    if (fn(i)) ok++;
    samples[i] = Number(process.hrtime.bigint() - s);
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const p = percentiles(samples);
  console.log(
    `  ${label.padEnd(34)} p50 ${fmtUs(p.p50)}  p99 ${fmtUs(p.p99)}  p99.9 ${fmtUs(p.p999)}  max ${fmtUs(p.max)}  ` +
      `(${Math.round(N / (totalMs / 1000)).toLocaleString()}/s, ${ok.toLocaleString()} ok)`,
  );
}

const clock: Clock = { now: () => NOW, setTimeout: () => ({ cancel() {} }), setInterval: () => ({ cancel() {} }) };
// The guard must not lock the bench reader: give it room for every tampered read.
const guard = new FailureGuard({ maxFailures: 1000, windowSec: 1, lockoutSec: 1 });
const qr = new QrAccess({ index, key, visitorGate: null, guard, clock });

console.log(`member QR token bench: ${N.toLocaleString()} distinct tokens, ${PEOPLE.toLocaleString()} people (target p99 ≤ 20 µs)`);
measure('verifyMemberToken (valid)', (i) => verifyMemberToken(key, tokens[i]!, NOW).ok);
measure('verifyMemberToken (tampered)', (i) => !verifyMemberToken(key, tampered[i]!, NOW).ok);
measure('QrAccess.decide (member, granted)', (i) => {
  const d = qr.decide(`reader-${i % 4}`, 'front', tokens[i]!);
  return !(d instanceof Promise) && d.result === 'granted';
});
