import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

/*
 * Another process holding the SQLite write lock, the way a backup script or the sqlite3 shell
 * does: `BEGIN IMMEDIATE` on its own connection, held until the test says release. Driven by
 * messages, not sleeps, so a test knows exactly when the lock is held and when it is free.
 */

const SCRIPT = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.pragma('busy_timeout = 10000');
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, arg] = line.split(' ');
  try {
    if (cmd === 'lock') db.exec('BEGIN IMMEDIATE');
    else if (cmd === 'release') db.exec('COMMIT');
    else if (cmd === 'sql') db.exec(Buffer.from(arg, 'base64').toString('utf8'));
    else if (cmd === 'exit') { db.close(); process.exit(0); }
    process.stdout.write('ok\\n');
  } catch (err) {
    process.stdout.write('error ' + err.message + '\\n');
  }
});
`;

export class OtherProcess {
  private readonly child: ChildProcess;
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | null = null;

  constructor(file: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.child = spawn(process.execPath, ['-e', SCRIPT, driver, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.answers.push(line);
    });
  }

  private send(line: string): Promise<string> {
    this.child.stdin!.write(`${line}\n`);
    const queued = this.answers.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private async expectOk(line: string): Promise<void> {
    const answer = await this.send(line);
    if (answer !== 'ok') throw new Error(`other process: ${answer}`);
  }

  /** Resolves once the other process holds the write lock. */
  lock(): Promise<void> {
    return this.expectOk('lock');
  }

  release(): Promise<void> {
    return this.expectOk('release');
  }

  /** Runs SQL in the other process (its own commit, as `sqlite3` or another lintel would). */
  exec(sql: string): Promise<void> {
    return this.expectOk(`sql ${Buffer.from(sql).toString('base64')}`);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.write('exit\n');
    await exited;
  }
}
