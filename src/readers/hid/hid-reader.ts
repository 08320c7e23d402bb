import type { ReaderConfig } from '../../config/schema.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import { Reconnector } from '../reconnect.js';
import type { Logger } from '../../util/log.js';
import { readerStatus, type LineHandler, type ReaderSource, type ReaderStatus } from '../reader.js';
import { describeSelector, loadNodeHidBinding, selectHidDevice, type HidBinding, type HidDeviceHandle } from './hid-binding.js';
import { KeyboardDecoder } from './keyboard-decoder.js';

export type { HidBinding, HidDeviceHandle, HidDeviceInfo } from './hid-binding.js';

type HidReaderConfig = Extract<ReaderConfig, { kind: 'hid' }>;

export interface HidReaderOptions {
  config: HidReaderConfig;
  onLine: LineHandler;
  clock: Clock;
  logger: Logger;
  binding?: HidBinding | undefined;
  /** Jitter source for the reconnect backoff; tests pin it. */
  random?: () => number;
}

/** First retry after half a second (USB re-enumeration), then doubling up to 30 s. */
export const HID_RECONNECT_BASE_MS = 500;
export const HID_RECONNECT_MAX_MS = 30_000;

/**
 * A USB keyboard-wedge reader read through hidraw (docs/hid-readers.md). Missing at start,
 * unplugged, or no permission: never fatal; the reader keeps retrying with backoff until stop()
 * and status() says why it is not connected. Line content is never logged.
 */
export class HidReader implements ReaderSource {
  readonly id: string;
  private readonly decoder: KeyboardDecoder;
  private handle: HidDeviceHandle | null = null;
  private binding: HidBinding | null;
  private readonly reconnect: Reconnector;
  private stopped = true;

  constructor(private readonly opts: HidReaderOptions) {
    this.id = opts.config.id;
    this.binding = opts.binding ?? null;
    this.reconnect = new Reconnector({
      clock: opts.clock,
      logger: opts.logger,
      baseMs: HID_RECONNECT_BASE_MS,
      maxMs: HID_RECONNECT_MAX_MS,
      what: 'HID reader',
      retry: () => void this.open(),
      random: opts.random,
    });
    this.decoder = new KeyboardDecoder({
      terminator: opts.config.terminator,
      maxLineLength: opts.config.maxLineLength,
      reportId: opts.config.reportId,
      onLine: (line) => {
        try {
          opts.onLine(line);
        } catch (err) {
          opts.logger.error({ err: errorMessage(err) }, 'line handler failed');
        }
      },
      onDrop: (kind, length) => opts.logger.debug({ kind, length }, 'line dropped'),
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
    this.reconnect.cancel();
    const handle = this.handle;
    this.handle = null;
    if (handle) closeQuietly(handle);
  }

  status(): ReaderStatus {
    return readerStatus(this.id, 'hid', this.handle !== null, this.decoder.counters, this.reconnect);
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const { usb } = this.opts.config;
    let handle: HidDeviceHandle;
    try {
      // Loading node-hid is async; a stop() during it must win.
      const binding = this.binding ?? (this.binding = await loadNodeHidBinding());
      if (this.stopped) return;
      const path = usb.vendorId === undefined && usb.path !== undefined ? usb.path : selectHidDevice(binding.devices(), usb);
      if (path === null) return this.retryLater(`device ${describeSelector(usb)} not present`);
      handle = binding.open(path);
    } catch (err) {
      return this.retryLater(`cannot open HID device ${describeSelector(usb)}: ${errorMessage(err)}`);
    }
    if (this.stopped) return closeQuietly(handle);
    // A fresh decoder state per connection: half a line from before an unplug is never glued
    // onto the first line after the device comes back.
    this.decoder.reset();
    this.handle = handle;
    this.reconnect.connected();
    handle.on('data', (report: Buffer) => {
      if (this.handle === handle) this.decoder.push(report);
    });
    handle.on('error', (err: Error) => this.lost(handle, `device lost: ${errorMessage(err)}`));
    this.opts.logger.info({ device: describeSelector(usb), reconnects: this.reconnect.reconnects }, 'HID reader connected');
  }

  private lost(handle: HidDeviceHandle, reason: string): void {
    if (this.handle !== handle) return; // an old handle's late event, or stop() closed it
    this.handle = null;
    closeQuietly(handle);
    this.retryLater(reason);
  }

  private retryLater(reason: string): void {
    if (!this.stopped) this.reconnect.retryLater(reason);
  }
}

function closeQuietly(handle: HidDeviceHandle): void {
  try {
    handle.close();
  } catch {
    // Closing a device that is already gone throws in node-hid; there is nothing left to release.
  }
}
