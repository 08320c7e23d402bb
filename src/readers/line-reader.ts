import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';
import type { ReaderConfig } from '../config/schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { LineIntake, readerStatus, terminatorBytes, type LineHandler, type ReaderSource, type ReaderStatus, type Terminator } from './reader.js';
import { errorMessage } from '../util/errors.js';

/**
 * Bounds memory in front of ReadlineParser. The parser keeps everything since the last
 * terminator in `buffer`, so a reader that never sends one (wrong terminator configured,
 * line noise, a stuck device) would grow it without limit. This guard only counts: it passes
 * bytes through until a line has run past the limit, then swallows the rest of that line and
 * passes just its terminator. The parser therefore never holds more than `limit` bytes, and
 * the line it finally emits is longer than maxLineLength, so LineIntake counts it as
 * overlong — in stream order, with no side channel. Checking the parser's buffer after each
 * write instead would race with its asynchronous 'data' events.
 */
export class LineLengthGuard extends Transform {
  private sinceTerminator = 0;
  private matched = 0;
  private discarding = false;

  constructor(
    private readonly terminator: Buffer,
    private readonly limit: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const term = this.terminator;
    let passFrom = this.discarding ? -1 : 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      // Terminators here have no repeated first byte, so this one-step fallback is exact.
      this.matched = byte === term[this.matched] ? this.matched + 1 : byte === term[0] ? 1 : 0;
      if (this.matched === term.length) {
        this.matched = 0;
        this.sinceTerminator = 0;
        if (this.discarding) {
          this.discarding = false;
          this.push(term);
          passFrom = i + 1;
        }
        continue;
      }
      if (!this.discarding && ++this.sinceTerminator > this.limit) {
        this.discarding = true;
        if (i > passFrom) this.push(chunk.subarray(passFrom, i));
        passFrom = -1;
      }
    }
    if (!this.discarding && passFrom >= 0 && passFrom < chunk.length) this.push(chunk.subarray(passFrom));
    done();
  }
}

/**
 * guard → ReadlineParser (latin1, so every byte stays visible as one char) → LineIntake.
 * Returns the writable end; a fresh one per connection so half a line from a device that
 * went away is never glued onto the first line after it comes back.
 */
export function createLinePipeline(
  opts: { terminator: Terminator; maxLineLength: number },
  intake: LineIntake,
  onHandlerError: (err: unknown) => void,
): LineLengthGuard {
  const delimiter = terminatorBytes(opts.terminator);
  const guard = new LineLengthGuard(delimiter, opts.maxLineLength + delimiter.length);
  const parser = new ReadlineParser({ delimiter, encoding: 'latin1' });
  parser.on('data', (line: string) => {
    try {
      intake.accept(line);
    } catch (err) {
      onHandlerError(err);
    }
  });
  guard.pipe(parser);
  return guard;
}

type StdinReaderConfig = Extract<ReaderConfig, { kind: 'stdin' }>;

export interface StreamLineReaderOptions {
  config: StdinReaderConfig;
  onLine: LineHandler;
  clock: Clock;
  logger: Logger;
  input: Readable;
}

/** Lines from any Readable (stdin in the demo, a keyboard-wedge reader on a console). */
export class StreamLineReader implements ReaderSource {
  readonly id: string;
  private readonly intake: LineIntake;
  private guard: LineLengthGuard | null = null;
  private connected = false;
  private lastError: string | null = null;
  // On end the pipe is left to end the parser, which flushes a last line sent without a
  // newline (`printf 123 | lintel demo`).
  private readonly onEnd = () => this.markClosed('input ended');
  private readonly onError = (err: Error) => this.detach(`input error: ${err.message}`);

  constructor(private readonly opts: StreamLineReaderOptions) {
    this.id = opts.config.id;
    this.intake = new LineIntake({
      maxLineLength: opts.config.maxLineLength,
      terminator: 'lf',
      onLine: opts.onLine,
      onDrop: (kind, length) => opts.logger.debug({ kind, length, counters: this.intake.counters }, 'line dropped'),
    });
  }

  async start(): Promise<void> {
    if (this.guard) return;
    const { input, logger } = this.opts;
    this.guard = createLinePipeline({ terminator: 'lf', maxLineLength: this.opts.config.maxLineLength }, this.intake, (err) =>
      logger.error({ err: errorMessage(err) }, 'line handler failed'),
    );
    input.once('end', this.onEnd);
    input.once('error', this.onError);
    input.pipe(this.guard);
    this.connected = true;
    this.lastError = null;
    logger.info('reading lines from stream');
  }

  async stop(): Promise<void> {
    this.detach(null);
  }

  status(): ReaderStatus {
    return readerStatus(this.id, 'stdin', this.connected, this.intake.counters, { reconnects: 0, lastError: this.lastError });
  }

  private detach(reason: string | null): void {
    const { input } = this.opts;
    input.off('end', this.onEnd);
    input.off('error', this.onError);
    if (this.guard) input.unpipe(this.guard);
    this.guard = null;
    if (reason) this.markClosed(reason);
    this.connected = false;
  }

  private markClosed(reason: string): void {
    // The end of the input is how a console session quits; only an error is worth a warning.
    if (this.connected) this.opts.logger[reason === 'input ended' ? 'info' : 'warn']({ reason }, 'line input closed');
    this.connected = false;
    this.lastError = reason;
  }
}
