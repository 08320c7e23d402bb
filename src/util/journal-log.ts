import { fstatSync } from 'node:fs';
import type { Clock, Timer } from './clock.js';

/*
 * Log lines for journald (README "Logs"). journald reads a `<N>` syslog priority prefix on each
 * line of a service's stdout/stderr (sd-daemon(3)), so `journalctl -p err` filters by level with
 * no native protocol and no socket. The message comes first, for a human reading `journalctl -u
 * lintel`; pino's structured fields follow as key=value, values JSON-quoted when they need it,
 * so nothing is lost and a line stays one line (an embedded newline would start an entry at
 * the default priority).
 *
 * Repeated warnings and errors are throttled: a broker that is down is reported twice a second,
 * which buries everything else and costs journald's rate limit (which then drops lines of every
 * level). Per message key (level, `part`, message), at most `limit` lines per window; when the
 * window ends one line says how many were suppressed. Fatal lines are never throttled.
 */

/** pino level → syslog priority: fatal crit(2), error err(3), warn warning(4), info(6), debug/trace debug(7). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function fieldValue(v: unknown): string {
  if (typeof v === 'string' && v !== '' && /^[^\s"=\\]+$/.test(v)) return v;
  return JSON.stringify(v) ?? 'undefined';
}

/** One pino record as a journal line (without the trailing newline). */
export function formatJournalLine(record: Record<string, unknown>): string {
  const level = typeof record.level === 'number' ? record.level : 30;
  const msg = typeof record.msg === 'string' ? record.msg.replace(/\r?\n/g, ' ⏎ ') : '';
  const fields = Object.entries(record)
    .filter(([k, v]) => !OMIT.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  return `<${syslogPriority(level)}>${[msg, ...fields].filter((s) => s !== '').join(' ')}`;
}

export interface JournalOptions {
  out: { write(line: string): unknown };
  clock: Clock;
  /** Lines per key and window before suppression. */
  limit?: number;
  windowMs?: number;
}

interface Window {
  count: number;
  suppressed: number;
  record: Record<string, unknown>;
  timer: Timer;
}

/** Keys tracked at once; past it new keys pass unthrottled rather than growing without bound. */
const MAX_KEYS = 1000;

/** A pino destination: takes pino's JSON lines, writes journal lines, throttled. */
export class JournalDestination {
  private readonly windows = new Map<string, Window>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(private readonly opts: JournalOptions) {
    this.limit = opts.limit ?? 3;
    this.windowMs = opts.windowMs ?? 10_000;
  }

  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.opts.out.write(`<6>${line}\n`);
        continue;
      }
      if (this.admit(record)) this.opts.out.write(`${formatJournalLine(record)}\n`);
    }
  }

  /** Writes the summaries of windows still open (at stop: nothing suppressed goes unmentioned). */
  flush(): void {
    for (const [key, w] of [...this.windows]) {
      w.timer.cancel();
      this.close(key, w);
    }
  }

  private admit(record: Record<string, unknown>): boolean {
    const level = typeof record.level === 'number' ? record.level : 30;
    if (level < 40 || level >= 60) return true;
    const key = `${level}\u0000${String(record.part ?? '')}\u0000${String(record.msg ?? '')}`;
    const open = this.windows.get(key);
    if (open) {
      open.count++;
      if (open.count <= this.limit) return true;
      open.suppressed++;
      return false;
    }
    if (this.windows.size >= MAX_KEYS) return true;
    const w: Window = { count: 1, suppressed: 0, record, timer: this.opts.clock.setTimeout(() => this.close(key, w), this.windowMs) };
    this.windows.set(key, w);
    return true;
  }

  private close(key: string, w: Window): void {
    this.windows.delete(key);
    if (w.suppressed === 0) return;
    const { level, msg, part } = w.record;
    const summary = { level, msg: `${String(msg ?? '')}: suppressed ${w.suppressed} similar in the last ${Math.round(this.windowMs / 1000)} s`, part };
    this.opts.out.write(`${formatJournalLine(summary)}\n`);
  }
}

/**
 * Whether stderr is the journal: systemd sets JOURNAL_STREAM to the device and inode of the
 * stream it connected (systemd.exec(5)), the check it documents for exactly this. Not "stderr is
 * not a TTY": pipes to other collectors and test harnesses read JSON lines today.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(2);
    return String(st.dev) === m[1] && String(st.ino) === m[2];
  } catch {
    return false;
  }
}
