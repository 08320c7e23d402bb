import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configSchema, type ReaderConfig } from '../../src/config/schema.js';
import { HidReader, type HidBinding, type HidDeviceHandle, type HidDeviceInfo } from '../../src/readers/hid/hid-reader.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';

type HidConfig = Extract<ReaderConfig, { kind: 'hid' }>;

class FakeHandle extends EventEmitter implements HidDeviceHandle {
  closed = false;
  constructor(readonly path: string) {
    super();
  }
  close(): void {
    this.closed = true;
  }
  /** Types a string of digits and Enter, as a badge reader does. */
  typeDigits(digits: string): void {
    for (const d of digits) {
      const usage = d === '0' ? 0x27 : 0x1e + Number(d) - 1;
      this.emit('data', Buffer.from([0, 0, usage, 0, 0, 0, 0, 0]));
      this.emit('data', Buffer.alloc(8));
    }
    this.emit('data', Buffer.from([0, 0, 0x28, 0, 0, 0, 0, 0]));
    this.emit('data', Buffer.alloc(8));
  }
}

/** A USB bus the test plugs devices into and out of. */
class FakeBus implements HidBinding {
  plugged: HidDeviceInfo[] = [];
  opened: FakeHandle[] = [];
  failListing: string | null = null;
  devices(): HidDeviceInfo[] {
    if (this.failListing !== null) throw new Error(this.failListing);
    return this.plugged.map((d) => ({ ...d }));
  }
  open(path: string): HidDeviceHandle {
    if (!this.plugged.some((d) => d.path === path)) throw new Error(`cannot open device with path ${path}`);
    const h = new FakeHandle(path);
    this.opened.push(h);
    return h;
  }
  last(): FakeHandle {
    const h = this.opened[this.opened.length - 1];
    if (!h) throw new Error('nothing opened');
    return h;
  }
  unplug(path: string): void {
    this.plugged = this.plugged.filter((d) => d.path !== path);
    for (const h of this.opened) if (h.path === path && !h.closed) h.emit('error', new Error('could not read from HID device'));
  }
}

function hidConfig(usb: Record<string, unknown>, extra: Record<string, unknown> = {}): HidConfig {
  const cfg = configSchema.parse({
    site: { id: 'hq' },
    doors: [{ id: 'front' }],
    readers: [{ id: 'lobby-hid', door: 'front', kind: 'hid', usb, ...extra }],
  });
  const reader = cfg.readers[0];
  if (reader?.kind !== 'hid') throw new Error('expected a hid reader');
  return reader;
}

const SCANNER: HidDeviceInfo = { vendorId: 0x0c2e, productId: 0x0b61, path: '/dev/hidraw3', serialNumber: 'A1', usagePage: 1, usage: 6 };

function setup(usb: Record<string, unknown> = { vendorId: 0x0c2e, productId: 0x0b61 }) {
  const bus = new FakeBus();
  const clock = new FakeClock();
  const lines: string[] = [];
  const reader = new HidReader({ config: hidConfig(usb), onLine: (l) => lines.push(l), clock, logger: silentLogger, binding: bus, random: () => 0.5 });
  return { bus, clock, lines, reader };
}

describe('HidReader', () => {
  it('reads lines from the selected device', async () => {
    const { bus, lines, reader } = setup();
    bus.plugged = [SCANNER];
    await reader.start();
    bus.last().typeDigits('0012345678');
    expect(lines).toEqual(['0012345678']);
    expect(reader.status()).toMatchObject({ id: 'lobby-hid', kind: 'hid', connected: true, lines: 1, reconnects: 0, lastError: null });
    await reader.stop();
    expect(bus.last().closed).toBe(true);
    expect(reader.status().connected).toBe(false);
  });

  it('retries when the device is not present at start, and connects once it is plugged in', async () => {
    const { bus, clock, lines, reader } = setup();
    await reader.start();
    expect(reader.status()).toMatchObject({ connected: false, lastError: 'device 0c2e:0b61 not present' });
    clock.advance(500); // first retry: base delay (jitter pinned to ×1.0)
    expect(bus.opened).toHaveLength(0);
    bus.plugged = [SCANNER];
    clock.advance(1000); // second retry: doubled
    expect(reader.status()).toMatchObject({ connected: true, reconnects: 1, lastError: null });
    bus.last().typeDigits('42');
    expect(lines).toEqual(['42']);
    await reader.stop();
  });

  it('reconnects after an unplug without gluing half a line onto the next one', async () => {
    const { bus, clock, lines, reader } = setup();
    bus.plugged = [SCANNER];
    await reader.start();
    const first = bus.last();
    first.emit('data', Buffer.from([0, 0, 0x1e, 0, 0, 0, 0, 0])); // "1", then the cable is pulled
    bus.unplug('/dev/hidraw3');
    expect(first.closed).toBe(true);
    expect(reader.status()).toMatchObject({ connected: false, lastError: 'device lost: could not read from HID device' });
    first.emit('data', Buffer.from([0, 0, 0x1f, 0, 0, 0, 0, 0])); // a late report from the old handle is ignored
    bus.plugged = [SCANNER];
    clock.advance(500);
    expect(reader.status()).toMatchObject({ connected: true, reconnects: 1 });
    bus.last().typeDigits('77');
    expect(lines).toEqual(['77']);
    await reader.stop();
  });

  it('selects by serial number among identical scanners and prefers the keyboard interface', async () => {
    const { bus, lines, reader } = setup({ vendorId: 0x0c2e, productId: 0x0b61, serialNumber: 'B2' });
    bus.plugged = [
      SCANNER,
      { ...SCANNER, path: '/dev/hidraw4', serialNumber: 'B2', usagePage: 0xff00, usage: 1 },
      { ...SCANNER, path: '/dev/hidraw5', serialNumber: 'B2' },
    ];
    await reader.start();
    expect(bus.last().path).toBe('/dev/hidraw5');
    bus.last().typeDigits('5');
    expect(lines).toEqual(['5']);
    await reader.stop();
  });

  it('opens a configured path directly', async () => {
    const { bus, reader } = setup({ path: '/dev/hidraw3' });
    bus.plugged = [SCANNER];
    await reader.start();
    expect(bus.last().path).toBe('/dev/hidraw3');
    await reader.stop();
  });

  it('treats a failing device listing (no hidraw/libusb access) as a reader error and keeps retrying', async () => {
    const { bus, clock, reader } = setup();
    bus.failListing = 'hidraw: permission denied';
    await reader.start();
    expect(reader.status()).toMatchObject({ connected: false });
    expect(reader.status().lastError).toContain('permission denied');
    bus.failListing = null;
    bus.plugged = [SCANNER];
    clock.advance(500);
    expect(reader.status().connected).toBe(true);
    await reader.stop();
  });

  it('stop() cancels a pending retry', async () => {
    const { clock, reader } = setup();
    await reader.start();
    expect(clock.pending()).toBe(1);
    await reader.stop();
    expect(clock.pending()).toBe(0);
  });

  it('counts dropped lines and never logs line content', async () => {
    const bus = new FakeBus();
    bus.plugged = [SCANNER];
    let logged = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => ((logged += chunk.toString()), cb()) });
    const reader = new HidReader({
      config: hidConfig({ vendorId: 0x0c2e, productId: 0x0b61 }, { maxLineLength: 8 }),
      onLine: () => {
        throw new Error('pipeline failed');
      },
      clock: new FakeClock(),
      logger: createLogger('debug', sink),
      binding: bus,
    });
    await reader.start();
    bus.last().typeDigits('987654321987'); // overlong
    bus.last().typeDigits('31415926'); // delivered; the handler throws, the reader survives
    expect(reader.status()).toMatchObject({ lines: 1, dropped: { overlong: 1, garbage: 0 }, connected: true });
    expect(logged).toContain('line handler failed');
    expect(logged).not.toContain('987654');
    expect(logged).not.toContain('314159');
    await reader.stop();
  });
});
