import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Faults of the disk under the gateway, injected from outside the process as they happen on
 * a site: another program holding SQLite's write lock, a file system that fills up, one that
 * turns read-only. Mounting needs root (CI runs as root); the error says so when it is not.
 */

const REPO = join(import.meta.dirname, '../..');

// CommonJS so `require('better-sqlite3')` resolves from the repository's node_modules.
const LOCK_HOLDER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('busy_timeout = 10000');
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); process.exit(0); }, Number(process.argv[2]));
`;

export interface LockHolder {
  child: ChildProcess;
  /** Resolves when the holder has the lock. */
  locked: Promise<number>;
  /** Resolves with Date.now() at the moment the holder let go. */
  released: Promise<number>;
}

/** A separate process that runs `BEGIN IMMEDIATE` on `dbFile` and holds it for `holdMs`. */
export function holdWriteLock(dbFile: string, holdMs: number): LockHolder {
  const child = spawn(process.execPath, ['-e', LOCK_HOLDER, dbFile, String(holdMs)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const seen = (word: string) =>
    new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(word)) resolve(Date.now());
      });
      child.once('exit', (code) => (out.includes(word) ? resolve(Date.now()) : reject(new Error(`lock holder exited (${code}): ${err}`))));
    });
  return { child, locked: seen('locked'), released: seen('released') };
}

export interface SmallFs {
  dir: string;
  /** Fills every free byte with a file; returns the bytes written. */
  fill(): number;
  /** Deletes the filler: the disk has room again. */
  free(): void;
  readOnly(): void;
  readWrite(): void;
  unmount(): void;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()} — the store fault tests need root to mount a tmpfs`);
}

/** A tmpfs of `sizeMb` mounted at `dir` (created if missing). */
export function mountSmallFs(dir: string, sizeMb: number): SmallFs {
  mkdirSync(dir, { recursive: true });
  run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0750`, 'tmpfs', dir]);
  const filler = join(dir, 'filler.bin');
  let mounted = true;
  return {
    dir,
    fill: () => {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0x55);
      let total = 0;
      try {
        for (;;) total += writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
      // The last partial pages too, so not one block is left.
      try {
        for (;;) total += writeSync(fd, chunk.subarray(0, 512));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
      closeSync(fd);
      return total;
    },
    free: () => rmSync(filler, { force: true }),
    readOnly: () => run('mount', ['-o', 'remount,ro', dir]),
    readWrite: () => run('mount', ['-o', 'remount,rw', dir]),
    unmount: () => {
      if (!mounted) return;
      mounted = false;
      spawnSync('umount', ['-l', dir]);
    },
  };
}
