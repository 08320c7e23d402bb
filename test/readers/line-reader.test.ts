import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { LineLengthGuard, StreamLineReader } from '../../src/readers/line-reader.js';
import { LineIntake } from '../../src/readers/reader.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';

function stdinReader(maxLineLength = 32) {
  const input = new PassThrough();
  const lines: string[] = [];
  const reader = new StreamLineReader({
    config: { id: 'console', door: 'front', kind: 'stdin', direction: 'in', cardFormat: 'decimal', payload: 'card', maxLineLength },
    onLine: (line) => lines.push(line),
    clock: new FakeClock(),
    logger: silentLogger,
    input,
  });
  return { input, lines, reader };
}

/** Runs chunks through a guard and returns everything it let through. */
async function throughGuard(terminator: string, limit: number, chunks: (string | Buffer)[]): Promise<Buffer> {
  const guard = new LineLengthGuard(Buffer.from(terminator, 'latin1'), limit);
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk);
      done();
    },
  });
  const finished = new Promise((resolve) => sink.on('finish', resolve));
  guard.pipe(sink);
  for (const c of chunks) guard.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  guard.end();
  await finished;
  return Buffer.concat(out);
}

describe('LineLengthGuard', () => {
  it('passes well-formed lines through untouched', async () => {
    const out = await throughGuard('\r\n', 10, ['123\r', '\n456', '\r\n']);
    expect(out.toString('latin1')).toBe('123\r\n456\r\n');
  });

  it('never lets more than the limit through for a line without a terminator', async () => {
    const out = await throughGuard('\n', 10, ['x'.repeat(4000), 'y'.repeat(4000), 'z'.repeat(4000)]);
    expect(out.length).toBe(10);
  });

  it('ends a cut line with its terminator so the next line starts clean', async () => {
    const out = await throughGuard('\r\n', 6, ['abcdefghij', 'kl\r', '\nok\r\n']);
    // 6 bytes of the long line, its terminator, then the next line intact.
    expect(out.toString('latin1')).toBe('abcdef\r\nok\r\n');
  });

  it('finds a CRLF terminator split across chunks while discarding', async () => {
    const out = await throughGuard('\r\n', 4, ['aaaaaaaa\r', '\n', '12\r\n']);
    expect(out.toString('latin1')).toBe('aaaa\r\n12\r\n');
  });
});

describe('LineIntake', () => {
  it('drops empty, over-long and non-printable lines and counts them', () => {
    const lines: string[] = [];
    const drops: [string, number][] = [];
    const intake = new LineIntake({
      maxLineLength: 8,
      terminator: 'lf',
      onLine: (l) => lines.push(l),
      onDrop: (kind, length) => drops.push([kind, length]),
    });
    for (const raw of ['', '\r', '1234\r', '123456789', '12\u000034', '\u00ff\u00fe', 'AB CD', '\t1']) intake.accept(raw);
    expect(lines).toEqual(['1234', 'AB CD']);
    expect(intake.counters).toEqual({ lines: 2, overlong: 1, garbage: 3 });
    expect(drops).toEqual([['overlong', 9], ['garbage', 5], ['garbage', 2], ['garbage', 2]]);
  });

  it('keeps a CR as content (garbage) when the terminator is not lf', () => {
    const lines: string[] = [];
    const intake = new LineIntake({ maxLineLength: 8, terminator: 'tab', onLine: (l) => lines.push(l) });
    intake.accept('1234\r');
    expect(lines).toEqual([]);
    expect(intake.counters.garbage).toBe(1);
  });
});

describe('StreamLineReader', () => {
  it('delivers clean lines from a stream, split anywhere, CRLF tolerated', async () => {
    const { input, lines, reader } = stdinReader();
    await reader.start();
    input.write('1234');
    input.write('5678\n87654321\r\n\n');
    input.write('\u0000\u0001binary\n');
    input.write(`${'9'.repeat(100)}\n42\n`);
    await vi.waitFor(() => expect(lines).toEqual(['12345678', '87654321', '42']));
    expect(reader.status()).toEqual({
      id: 'console',
      kind: 'stdin',
      connected: true,
      lines: 3,
      dropped: { overlong: 1, garbage: 1 },
      reconnects: 0,
      lastError: null,
    });
    await reader.stop();
    expect(reader.status().connected).toBe(false);
  });

  it('delivers a last line sent without a newline at end of input, then reports the end', async () => {
    const { input, lines, reader } = stdinReader();
    await reader.start();
    input.end('777');
    await vi.waitFor(() => expect(lines).toEqual(['777']));
    expect(reader.status()).toMatchObject({ connected: false, lastError: 'input ended' });
  });

  it('stops delivering after stop()', async () => {
    const { input, lines, reader } = stdinReader();
    await reader.start();
    input.write('1\n');
    await vi.waitFor(() => expect(lines).toEqual(['1']));
    await reader.stop();
    input.write('2\n');
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['1']);
  });
});
