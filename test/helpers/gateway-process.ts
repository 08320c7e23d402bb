import { spawn, type ChildProcess } from 'node:child_process';

/*
 * The built `lintel run` as systemd starts it: a child process with a config file, its JSON log
 * lines on stderr collected for the test, its stdin a stdin reader when the config has one.
 */

export { CLI } from './cli-path.js';
import { CLI } from './cli-path.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** Polls with a real timer: this waits on a child process, not on code under test. */
export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class GatewayProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(configFile: string, args: string[] = []) {
    this.child = spawn(process.execPath, [CLI, 'run', '-c', configFile, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    let partial = '';
    this.child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.stderr += text;
      partial += text;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) {
        try {
          this.lines.push(JSON.parse(p) as LogLine);
        } catch {
          this.lines.push({ level: 0, msg: p });
        }
      }
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first log line at or after `from` whose msg contains `msg` (and that `match` accepts). */
  waitLog(msg: string, opts: { from?: number; match?: (l: LogLine) => boolean; ms?: number } = {}): Promise<LogLine> {
    return waitFor(`log "${msg}"`, () => {
      if (!this.alive && this.lines.length === 0) throw new Error(`gateway exited: ${this.stderr}`);
      return this.lines.slice(opts.from ?? 0).find((l) => l.msg.includes(msg) && (opts.match?.(l) ?? true));
    }, opts.ms);
  }

  /** The HTTP port from the "lintel started" line. */
  async started(): Promise<number> {
    const line = await this.waitLog('lintel started');
    return (line.http as { port: number }).port;
  }

  typeLine(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function getJson<T>(port: number, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return (await res.json()) as T;
}
