import { access } from 'node:fs/promises';
import { SerialPortStream, type OpenOptions } from '@serialport/stream';
import { withNonBlockingReads, type BindingInterface } from './nonblocking-read.js';
import type { ReaderConfig } from '../config/schema.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { createLinePipeline, type LineLengthGuard } from './line-reader.js';
import { errorMessage } from '../util/errors.js';
import { Reconnector } from './reconnect.js';
import { LineIntake, readerStatus, type LineHandler, type ReaderSource, type ReaderStatus } from './reader.js';

/** A serialport binding: the OS one by default, `MockBinding` in tests. */
export type SerialBinding = OpenOptions['binding'];

type SerialReaderConfig = Extract<ReaderConfig, { kind: 'serial' }>;

export interface SerialReaderOptions {
  config: SerialReaderConfig;
  onLine: LineHandler;
  clock: Clock;
  logger: Logger;
  binding?: SerialBinding | undefined;
  /** Jitter source for the reconnect backoff; tests pin it. */
  random?: () => number;
  /**
   * Whether the device node still exists; checked every PRESENCE_CHECK_MS while connected.
   * Defaults to the filesystem. Tests on MockBinding, whose paths are not files, replace it.
   */
  deviceExists?: (path: string) => Promise<boolean>;
}

/** First retry after half a second (a USB re-enumeration), then doubling up to 30 s. */
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 30_000;
/**
 * Why poll at all: a tty that was hung up (USB unplug, pty peer gone) answers read() with 0
 * bytes, which the serialport binding treats as "try again" — if the hang-up lands while no
 * poll is pending, it spins on empty reads and never reports the loss. The device node
 * vanishing is the one signal that cannot be missed; closing the port ends the spin.
 */
export const PRESENCE_CHECK_MS = 2_000;

/**
 * A badge reader on a serial line (RS-232/485 adapters, USB CDC readers). The device may be
 * missing at start or unplugged at any time: neither is fatal, the reader keeps reopening
 * it with backoff until stop(), and status() says why it is not connected.
 */
export class SerialReader implements ReaderSource {
  readonly id: string;
  private readonly intake: LineIntake;
  private connection: { port: SerialPortStream; guard: LineLengthGuard; presence: Timer } | null = null;
  private readonly reconnect: Reconnector;
  private stopped = true;
  /** Bumped by stop(): an open() still in flight from before must not resurrect a connection. */
  private generation = 0;

  constructor(private readonly opts: SerialReaderOptions) {
    this.id = opts.config.id;
    this.reconnect = new Reconnector({
      clock: opts.clock,
      logger: opts.logger,
      baseMs: RECONNECT_BASE_MS,
      maxMs: RECONNECT_MAX_MS,
      what: 'serial reader',
      retry: () => void this.open(),
      random: opts.random,
    });
    this.intake = new LineIntake({
      maxLineLength: opts.config.maxLineLength,
      terminator: opts.config.terminator,
      onLine: opts.onLine,
      onDrop: (kind, length) => opts.logger.debug({ kind, length, counters: this.intake.counters }, 'line dropped'),
    });
  }

  /** Resolves after the first open attempt, whether or not the device was there. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    this.reconnect.cancel();
    const connection = this.connection;
    this.connection = null;
    if (connection) {
      connection.presence.cancel();
      connection.port.unpipe(connection.guard);
      await closeQuietly(connection.port);
    }
  }

  status(): ReaderStatus {
    return readerStatus(this.id, 'serial', this.connection !== null, this.intake.counters, this.reconnect);
  }

  private async open(): Promise<void> {
    const generation = this.generation;
    const { config, logger } = this.opts;
    let port: SerialPortStream;
    try {
      const binding = this.opts.binding ?? (await defaultBinding());
      port = new SerialPortStream({ binding, path: config.path, baudRate: config.baudRate, autoOpen: false });
    } catch (err) {
      if (generation === this.generation) this.retryLater(`cannot use serial port: ${errorMessage(err)}`);
      return;
    }
    const openError = await new Promise<Error | null>((resolve) => port.open(resolve));
    if (this.stopped || generation !== this.generation) {
      if (!openError) await closeQuietly(port);
      return;
    }
    if (openError) return this.retryLater(`open failed: ${openError.message}`);

    // A fresh line pipeline per connection: half a line from before an unplug is never glued
    // onto the first line after the device comes back.
    const guard = createLinePipeline(config, this.intake, (err) =>
      logger.error({ err: errorMessage(err) }, 'line handler failed'),
    );
    const presence = this.opts.clock.setInterval(() => void this.checkPresence(port, guard), PRESENCE_CHECK_MS);
    this.connection = { port, guard, presence };
    this.reconnect.connected();
    port.on('close', (err: Error | null) => this.lost(port, guard, err ? `device lost: ${err.message}` : 'port closed'));
    // Errors on an open port (EIO from an unplugged adapter) are followed by 'close'; one that
    // leaves it closed without a 'close' still has to end this connection.
    port.on('error', (err: Error) => {
      this.reconnect.lastError = err.message;
      if (!port.isOpen && !port.opening) this.lost(port, guard, `port error: ${err.message}`);
    });
    port.pipe(guard);
    logger.info({ path: config.path, baudRate: config.baudRate, reconnects: this.reconnect.reconnects }, 'serial reader connected');
  }

  private lost(port: SerialPortStream, guard: LineLengthGuard, reason: string): void {
    if (this.connection?.port !== port) return; // an old port's late event, or stop() closed it
    this.connection.presence.cancel();
    this.connection = null;
    port.unpipe(guard);
    if (port.isOpen) void closeQuietly(port);
    this.retryLater(reason);
  }

  private async checkPresence(port: SerialPortStream, guard: LineLengthGuard): Promise<void> {
    const path = this.opts.config.path;
    const exists = await (this.opts.deviceExists ?? fileExists)(path);
    if (!exists) this.lost(port, guard, 'device lost: device node disappeared');
  }

  private retryLater(reason: string): void {
    if (!this.stopped) this.reconnect.retryLater(reason);
  }
}

/**
 * The OS binding, loaded on first use so tests and stdin-only setups never load native code;
 * its reads go to read(2) directly (nonblocking-read.ts), not through the thread pool.
 */
async function defaultBinding(): Promise<SerialBinding> {
  const { SerialPort } = await import('serialport');
  return withNonBlockingReads(SerialPort.binding as BindingInterface) as SerialBinding;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function closeQuietly(port: SerialPortStream): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve();
    port.close(() => resolve());
  });
}
