import { closeSync, openSync, readSync, statSync } from 'node:fs';

/*
 * The gateway's own GC pauses over one bench phase, when it runs with `--trace-gc` (its stdout
 * goes to the log file): the lines V8 wrote between two offsets of that file. A swipe read
 * during a main-thread pause waits it out, so the pause share of the phase bounds what a p99
 * can be; this is how a tail is told apart from the scheduler's.
 */

export interface GcSummary {
  scavenges: number[];
  markCompacts: number[];
}

export function logSize(file: string): number {
  return statSync(file).size;
}

function slice(file: string, from: number, to: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, to - from));
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * `[pid:0xISOLATE]  1234 ms: Scavenge 12.1 (14.0) -> 10.3 (15.0) MB, 1.84 / 0.00 ms …`: the
 * pause is the first figure after "MB,". Worker threads (the booking link, the API writer) print
 * into the same stream with their own isolate: the main thread's is the first to collect, while
 * the index loads and before any worker starts.
 */
const GC_LINE = /^\[\d+:(0x[0-9a-f]+)\].*ms: (Scavenge|Mark-Compact|Mark-sweep)[^,]*MB, ([\d.]+) \//;

function mainIsolate(file: string, to: number): string | null {
  for (const line of slice(file, 0, Math.min(to, 4 << 20)).split('\n')) {
    const m = GC_LINE.exec(line);
    if (m) return m[1]!;
  }
  return null;
}

/** The main thread's pauses between two offsets of the log. */
export function gcBetween(file: string, from: number, to: number): GcSummary {
  const out: GcSummary = { scavenges: [], markCompacts: [] };
  const main = mainIsolate(file, to);
  for (const line of slice(file, from, to).split('\n')) {
    const m = GC_LINE.exec(line);
    if (!m || m[1] !== main) continue;
    (m[2] === 'Scavenge' ? out.scavenges : out.markCompacts).push(Number(m[3]));
  }
  return out;
}

function describe(label: string, pauses: number[]): string {
  if (pauses.length === 0) return `0 ${label}`;
  const s = [...pauses].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const sum = s.reduce((a, b) => a + b, 0);
  return `${s.length} ${label} (median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)} ms, max ${s.at(-1)!.toFixed(1)} ms, ${sum.toFixed(0)} ms in all)`;
}

/** One note line, or null when the log has no GC lines (the gateway ran without --trace-gc). */
export function gcNote(summary: GcSummary, wallSeconds: number): string | null {
  if (summary.scavenges.length === 0 && summary.markCompacts.length === 0) return null;
  const paused = [...summary.scavenges, ...summary.markCompacts].reduce((a, b) => a + b, 0);
  return `gateway main thread GC (--trace-gc): ${describe('scavenges', summary.scavenges)}, ${describe('mark-compacts', summary.markCompacts)}; paused ${((100 * paused) / (wallSeconds * 1000)).toFixed(2)} % of the phase`;
}
