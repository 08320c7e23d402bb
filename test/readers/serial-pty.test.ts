import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PRESENCE_CHECK_MS, RECONNECT_MAX_MS, SerialReader } from '../../src/readers/serial-reader.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';
import { startSocatPty, type SocatPty } from '../helpers/pty.js';

/*
 * The real serialport binding on a real pseudo-terminal pair (socat), the closest thing to a
 * USB-serial badge reader without hardware: termios, the native read loop and EIO on hang-up
 * are all the real ones.
 */
const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
if (!hasSocat) console.warn('serial-pty tests skipped: socat is not installed (apt-get install socat)');

describe.skipIf(!hasSocat)('SerialReader on a real pty pair', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function pair(dir: string): Promise<SocatPty> {
    const p = await startSocatPty(dir);
    cleanups.push(() => p.stop());
    return p;
  }

  function deviceWriter(path: string): (text: string) => void {
    // Held open for the whole test: closing the last fd of a socat pty end makes socat exit.
    const fd = openSync(path, 'w');
    cleanups.push(() => closeSync(fd));
    return (text) => void writeSync(fd, text);
  }

  /** A started reader on the gateway side of a fresh pty pair, LF-terminated, on a fake clock. */
  async function lfReader(): Promise<{ reader: SerialReader; pty: SocatPty; clock: FakeClock; lines: string[]; dir: string }> {
    const tmp = tempDir('lintel-pty-');
    cleanups.push(tmp.cleanup);
    const clock = new FakeClock();
    const pty = await startSocatPty(tmp.dir);
    cleanups.push(() => pty.stop());
    const lines: string[] = [];
    const reader = new SerialReader({
      config: {
        id: 'pty-reader', door: 'front', kind: 'serial', direction: 'in', cardFormat: 'decimal', payload: 'card',
        maxLineLength: 64, path: pty.gatewaySide, baudRate: 9600, terminator: 'lf',
      },
      onLine: (l) => lines.push(l),
      clock,
      logger: silentLogger,
      random: () => 0.5,
    });
    cleanups.push(() => reader.stop());
    await reader.start();
    return { reader, pty, clock, lines, dir: tmp.dir };
  }

  it('reads a CRLF-terminated badge line written into the other end', async () => {
    const tmp = tempDir('lintel-pty-');
    cleanups.push(tmp.cleanup);
    const pty = await pair(tmp.dir);
    const lines: string[] = [];
    const reader = new SerialReader({
      config: {
        id: 'pty-reader', door: 'front', kind: 'serial', direction: 'in', cardFormat: 'decimal', payload: 'card',
        maxLineLength: 64, path: pty.gatewaySide, baudRate: 9600, terminator: 'crlf',
      },
      onLine: (l) => lines.push(l),
      clock: new FakeClock(),
      logger: silentLogger,
    });
    cleanups.push(() => reader.stop());
    await reader.start();
    expect(reader.status()).toMatchObject({ connected: true, lastError: null });

    const write = deviceWriter(pty.deviceSide);
    write('12345678\r\n');
    await vi.waitFor(() => expect(lines).toEqual(['12345678']), { timeout: 5000 });
  });

  it('notices the device going away and reconnects when it is back', async () => {
    const { reader, pty: first, clock, lines, dir } = await lfReader();
    expect(reader.status().connected).toBe(true);

    await first.stop(); // the adapter is unplugged: the pty hangs up and its link is removed
    clock.advance(PRESENCE_CHECK_MS); // whichever notices first: the binding or the presence check
    // Lost, and exactly one timer left: the reconnect (the presence check went with the port).
    await vi.waitFor(() => expect([reader.status().connected, clock.pending()]).toEqual([false, 1]), { timeout: 5000 });
    expect(reader.status().lastError).toMatch(/^(device lost|open failed)/);

    const second = await pair(dir); // plugged back in, same by-id path
    clock.advance(RECONNECT_MAX_MS);
    await vi.waitFor(() => expect(reader.status().connected).toBe(true), { timeout: 5000 });
    expect(reader.status().reconnects).toBe(1);
    deviceWriter(second.deviceSide)('4242\n');
    await vi.waitFor(() => expect(lines).toEqual(['4242']), { timeout: 5000 });
  });

  it('a hang-up is noticed by the read itself, before any presence check, and reads never go through the thread pool', async () => {
    const { reader, pty: p, lines } = await lfReader();
    const write = deviceWriter(p.deviceSide);
    // Every thread of libuv's pool busy (each job takes hundreds of ms): a read through the
    // pool would queue behind them; one made by read(2) on the main thread does not.
    const { pbkdf2 } = await import('node:crypto');
    let poolJobsDone = 0;
    const busy = Array.from({ length: 8 }, () => new Promise<void>((r) => pbkdf2('x', 'y', 600_000, 32, 'sha256', () => (poolJobsDone++, r()))));
    let doneWhenRead = -1;
    const seen = new Promise<void>((resolve) => {
      const check = () => (lines.length > 0 ? ((doneWhenRead = poolJobsDone), resolve()) : setImmediate(check));
      check();
    });
    write('777\n');
    await seen;
    await Promise.all(busy);
    expect(lines).toEqual(['777']);
    expect(doneWhenRead, 'pool jobs finished before the line was read').toBe(0);

    await p.stop();
    // No clock advance: the presence check never runs; the read's EIO or 0 bytes must say it.
    await vi.waitFor(() => expect(reader.status().connected).toBe(false), { timeout: 3000 });
    expect(reader.status().lastError).toMatch(/device lost|port error/);
  });
});
