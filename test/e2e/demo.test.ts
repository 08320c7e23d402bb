import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

/*
 * The README's first command as a newcomer runs it: `lintel demo` (what `npm start` runs) in a
 * fresh directory, typing on its stdin. Everything is real but the hardware and the platform,
 * which are the project's simulators.
 */

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

describe('lintel demo', () => {
  let child: ChildProcess;
  let out = '';
  let cleanup: () => void;

  const waitFor = async (text: string | RegExp, ms = 10_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!(typeof text === 'string' ? out.includes(text) : text.test(out))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${String(text)}; output so far:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const type = (line: string) => child.stdin!.write(`${line}\n`);

  beforeAll(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    child = spawn(process.execPath, [CLI, 'demo'], { cwd: t.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('/help');
  }, 30_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    cleanup();
  });

  it('imports the sample cards and opens the door for a staff card', async () => {
    expect(out).toContain('Imported the sample card list');
    expect(out).toMatch(/status page http:\/\/127\.0\.0\.1:\d+\//);
    type('1001');
    await waitFor('GRANTED card **01 at front: granted, relay sent');
    await waitFor('[door front] relay 1 unlocked for 3000 ms');
    type('9999');
    await waitFor('DENIED  card **99 at front: unknown_credential');
  });

  it('a booking made on the platform simulator opens the door through its signed callback', async () => {
    type('2002');
    await waitFor('at front: no_grant');
    type('/book li@example.com 30');
    await waitFor(/platform: booking A-\d+ for li@example.com/);
    // The callback is asynchronous: retry the card until the grant has arrived.
    const end = Date.now() + 10_000;
    while (!/GRANTED card \*\*02 at front: granted/.test(out.split('/book')[1] ?? '')) {
      if (Date.now() > end) throw new Error(`booking never opened the door:\n${out}`);
      type('2002');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('visitor QR codes are accepted and refused by their status; a member QR token opens', async () => {
    type('V7K2-99QX');
    await waitFor('GRANTED visitor-qr *******QX at front: granted');
    type('EXPT-0001');
    await waitFor('visit_expected');
    type('GONE-0002');
    await waitFor('visit_checked_out');
    type('/qr ana@example.com');
    await waitFor(/\n {2}(LT2\.[A-Za-z0-9_.-]{62})\n/);
    const token = /\n {2}(LT2\.[A-Za-z0-9_.-]{62})\n/.exec(out)![1]!;
    type(token);
    await waitFor(/GRANTED member-qr LT…\S{4} at front: granted/);
  });

  it('quits cleanly when stdin ends', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.stdin!.end();
    expect(await exited).toBe(0);
  });
});
