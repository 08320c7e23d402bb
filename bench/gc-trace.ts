import { closeSync, openSync, readSync, statSync } from 'node:fs';

/*
 * The gateway's own GC pauses over one bench phase, when it runs with `--trace-gc` or
 * `--trace-gc-nvp` (its stdout
 * goes to the log file): the lines V8 wrote between two offsets of that file. A swipe read
 * during a main-thread pause waits it out, so the pause share of the phase bounds what a p99
 * can be; this is how a tail is told apart from the scheduler's.
 */

export interface GcSummary {
  scavenges: number[];
  markCompacts: number[];
  /** With --trace-gc-nvp: bytes allocated and promoted between the phase's collections (load-independent, unlike pauses). */
  allocated: number;
  promoted: number;
  /** With --trace-gc-nvp: per-scavenge sums of what its pause was spent on and what survived it. */
  scavengeParts: Record<string, number>;
}

const SCAVENGE_PARTS = ['scavenge.roots', 'scavenge.parallel', 'scavenge.sweep_array_buffers', 'scavenge.update_refs', 'scavenge.weak_global_handles.process', 'time_to_safepoint'];
const floatField = (line: string, name: string) => Number(new RegExp(`\\b${name.replace(/\./g, '\\.')}=([\\d.]+)`).exec(line)?.[1] ?? 0);

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
/** The same with --trace-gc-nvp: `pause=1.2 … gc=s …` (s: scavenge, ms/mc: mark-sweep/compact) `… allocated=N promoted=N`. */
const NVP_LINE = /^\[\d+:(0x[0-9a-f]+)\].*ms: pause=([\d.]+) .*?\bgc=(\w+)\b/;
const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? 0);

function parse(line: string): { isolate: string; scavenge: boolean; pause: number } | null {
  const m = GC_LINE.exec(line);
  if (m) return { isolate: m[1]!, scavenge: m[2] === 'Scavenge', pause: Number(m[3]) };
  const n = NVP_LINE.exec(line);
  if (n) return { isolate: n[1]!, scavenge: n[3] === 's', pause: Number(n[2]) };
  return null;
}

function mainIsolate(file: string, to: number): string | null {
  for (const line of slice(file, 0, Math.min(to, 4 << 20)).split('\n')) {
    const m = parse(line);
    if (m) return m.isolate;
  }
  return null;
}

/** The main thread's pauses between two offsets of the log. */
export function gcBetween(file: string, from: number, to: number): GcSummary {
  const out: GcSummary = { scavenges: [], markCompacts: [], allocated: 0, promoted: 0, scavengeParts: {} };
  const main = mainIsolate(file, to);
  for (const line of slice(file, from, to).split('\n')) {
    const m = parse(line);
    if (!m || m.isolate !== main) continue;
    (m.scavenge ? out.scavenges : out.markCompacts).push(m.pause);
    out.allocated += field(line, 'allocated');
    out.promoted += field(line, 'promoted');
    if (m.scavenge && line.includes(' gc=s ')) {
      for (const part of SCAVENGE_PARTS) out.scavengeParts[part] = (out.scavengeParts[part] ?? 0) + floatField(line, part);
      out.scavengeParts.survivedKb = (out.scavengeParts.survivedKb ?? 0) + field(line, 'new_space_survived') / 1024;
    }
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
  const volume = summary.allocated > 0 ? `; allocated ${(summary.allocated / 2 ** 20).toFixed(0)} MB, promoted ${(summary.promoted / 2 ** 20).toFixed(1)} MB` : '';
  const n = summary.scavenges.length;
  const parts = Object.keys(summary.scavengeParts).length > 0 && n > 0
    ? `; a scavenge on average: ${Object.entries(summary.scavengeParts).map(([k, v]) => `${k.replace('scavenge.', '')} ${(v / n).toFixed(k === 'survivedKb' ? 0 : 2)}`).join(', ')}`
    : '';
  return `gateway main thread GC: ${describe('scavenges', summary.scavenges)}, ${describe('mark-compacts', summary.markCompacts)}; paused ${((100 * paused) / (wallSeconds * 1000)).toFixed(2)} % of the phase${volume}${parts}`;
}
