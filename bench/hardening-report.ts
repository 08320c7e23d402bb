/**
 * The hardening bench's table: each phase's swipe → pulse figures beside issue 9's targets
 * (p99 ≤ 2× the idle p99 of the same run, max ≤ 50 ms, 0 audit rows lost), PASS or MISS, and
 * what the gateway's own log says beside them.
 */
import { readFileSync } from 'node:fs';
import { percentiles } from './stats.js';

export const MAX_TARGET_MS = 50;
export const P99_FACTOR = 2;

export interface PhaseResult {
  name: string;
  /** Swipe → pulse, ns, one per swipe that got its pulse. */
  samples: number[];
  /** Lines written into the ptys in this phase. */
  swipes: number;
  /** Swipes that got no pulse before the phase's drain timeout. */
  noPulse: number;
  /** Lines the full pty would not take (counted apart: they never reached the gateway). */
  refused: number;
  /** Audit rows that should exist for this phase's swipes, and those found once it settled. */
  auditExpected: number;
  auditFound: number;
  /** What ran beside the swipes, measured (one line each). */
  notes: string[];
}

export interface Verdicts {
  p99: boolean | null;
  max: boolean;
  audit: boolean;
}

const ms = (ns: number) => (Number.isFinite(ns) ? `${(ns / 1e6).toFixed(2)} ms` : '—');
const mark = (ok: boolean | null) => (ok === null ? '' : ok ? 'PASS' : 'MISS');

export function verdicts(r: PhaseResult, idleP99: number | null): Verdicts {
  const p = r.samples.length > 0 ? percentiles(r.samples) : null;
  return {
    p99: idleP99 === null ? null : p !== null && p.p99 <= P99_FACTOR * idleP99,
    // A swipe with no pulse is a door that never opened: no max can pass with one.
    max: p !== null && r.noPulse === 0 && p.max <= MAX_TARGET_MS * 1e6,
    audit: r.auditFound >= r.auditExpected,
  };
}

/** Prints the table and returns how many targets were missed. */
export function printReport(header: string[], results: PhaseResult[], footer: string[]): number {
  const idle = results[0]!;
  const idleP99 = idle.samples.length > 0 ? percentiles(idle.samples).p99 : NaN;
  const rows: string[][] = [['phase', 'reads', 'p50', 'p99', `p99 ≤ ${P99_FACTOR}× idle (${ms(P99_FACTOR * idleP99)})`, 'max', `max ≤ ${MAX_TARGET_MS} ms`, 'no pulse', 'audit rows lost', '']];
  let missed = 0;
  for (const [i, r] of results.entries()) {
    const p = r.samples.length > 0 ? percentiles(r.samples) : { p50: NaN, p99: NaN, max: NaN };
    const v = verdicts(r, i === 0 ? null : idleP99);
    missed += [v.p99, v.max, v.audit].filter((ok) => ok === false).length;
    const lost = r.auditExpected - r.auditFound;
    rows.push([
      r.name,
      String(r.samples.length),
      ms(p.p50),
      ms(p.p99),
      i === 0 ? '(baseline)' : `${(p.p99 / idleP99).toFixed(1)}× ${mark(v.p99)}`,
      ms(p.max),
      mark(v.max),
      String(r.noPulse),
      `${lost} of ${r.auditExpected}`,
      mark(v.audit),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log('');
  for (const line of header) console.log(line);
  console.log('');
  for (const row of rows) console.log(`  ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}`);
  console.log('');
  for (const r of results) {
    if (r.notes.length === 0 && r.refused === 0) continue;
    console.log(`  ${r.name}:`);
    for (const n of r.notes) console.log(`    ${n}`);
    if (r.refused > 0) console.log(`    ${r.refused} lines refused by a full pty (never reached the gateway; not in "reads")`);
  }
  for (const line of footer) console.log(line);
  console.log(`\n  targets missed: ${missed} of ${3 * results.length - 1}`);
  return missed;
}

/** The log's last lines other than per-read decisions (those say nothing about why it ended). */
export function tail(file: string, lines: number): string {
  return readFileSync(file, 'utf8').trimEnd().split('\n').filter((l) => !l.includes('"msg":"decision"')).slice(-lines).map((l) => `  ${l.slice(0, 300)}`).join('\n');
}

/** What the gateway itself logged at warn and above, by message: the why behind a miss. */
export function logSummary(file: string): string[] {
  const counts = new Map<string, number>();
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) >= 50) count(`error: ${entry.msg}`);
      else if ((entry.level ?? 0) >= 40) count(`warn: ${entry.msg}`);
    } catch {
      count(`not JSON: ${line.slice(0, 100)}`);
    }
  }
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return top.length === 0 ? ['  gateway log: nothing at warn or above'] : ['  gateway log, warn and above:', ...top.map(([msg, n]) => `    ${n} × ${msg}`)];
}
