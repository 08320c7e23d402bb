import type { ReaderConfig } from '../../config/schema.js';
import { backoffMs, type Clock, type Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { LineHandler, ReaderSource, ReaderStatus } from '../reader.js';
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
  private retryTimer: Timer | null = null;
  private failures = 0;
  private lostSinceLastOpen = false;
  private reconnects = 0;
  private stopped = true;
  private lastError: string | null = null;

  constructor(private readonly opts: HidReaderOptions) {
    this.id = opts.config.id;
    this.binding = opts.binding ?? null;
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
    this.retryTimer?.cancel();
    this.retryTimer = null;
    const handle = this.handle;
    this.handle = null;
    if (handle) closeQuietly(handle);
  }

  status(): ReaderStatus {
    const c = this.decoder.counters;
    return {
      id: this.id,
      kind: 'hid',
      connected: this.handle !== null,
      lines: c.lines,
      dropped: { overlong: c.overlong, garbage: c.garbage },
      reconnects: this.reconnects,
      lastError: this.lastError,
    };
  }

  private async open(): Promise<void> {
    this.retryTimer = null;
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
    this.failures = 0;
    this.lastError = null;
    if (this.lostSinceLastOpen) this.reconnects++;
    this.lostSinceLastOpen = false;
    handle.on('data', (report: Buffer) => {
      if (this.handle === handle) this.decoder.push(report);
    });
    handle.on('error', (err: Error) => this.lost(handle, `device lost: ${errorMessage(err)}`));
    this.opts.logger.info({ device: describeSelector(usb), reconnects: this.reconnects }, 'HID reader connected');
  }

  private lost(handle: HidDeviceHandle, reason: string): void {
    if (this.handle !== handle) return; // an old handle's late event, or stop() closed it
    this.handle = null;
    closeQuietly(handle);
    this.retryLater(reason);
  }

  private retryLater(reason: string): void {
    if (this.stopped) return;
    this.lastError = reason;
    this.lostSinceLastOpen = true;
    const delay = backoffMs(this.failures, HID_RECONNECT_BASE_MS, HID_RECONNECT_MAX_MS, this.opts.random);
    this.failures++;
    this.opts.logger.warn({ reason, retryInMs: delay, attempt: this.failures }, 'HID reader not connected, retrying');
    this.retryTimer = this.opts.clock.setTimeout(() => void this.open(), delay);
  }
}

function closeQuietly(handle: HidDeviceHandle): void {
  try {
    handle.close();
  } catch {
    // Closing a device that is already gone throws in node-hid; there is nothing left to release.
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
