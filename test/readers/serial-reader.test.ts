import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
// The package's ESM entry ships no types under NodeNext resolution; its CJS entry does.
import type { MockBindingInterface, MockPortBinding } from '@serialport/binding-mock' with { 'resolution-mode': 'require' };
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReaderConfig } from '../../src/config/schema.js';
import { PRESENCE_CHECK_MS, RECONNECT_MAX_MS, SerialReader, type SerialBinding } from '../../src/readers/serial-reader.js';
import { createLogger, silentLogger, type Logger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';

const { MockBinding } = createRequire(import.meta.url)('@serialport/binding-mock') as { MockBinding: MockBindingInterface };
const PATH = '/dev/ttyMOCK0';
type SerialConfig = Extract<ReaderConfig, { kind: 'serial' }>;

const config = (over: Partial<SerialConfig> = {}): SerialConfig => ({
  id: 'lobby-serial',
  door: 'front',
  kind: 'serial',
  direction: 'in',
  cardFormat: 'decimal',
  payload: 'card',
  maxLineLength: 16,
  path: PATH,
  baudRate: 9600,
  terminator: 'crlf',
  ...over,
});

/** MockBinding, plus a record of every port it opened so the test can play the device. */
function recordingBinding(): { binding: SerialBinding; opened: MockPortBinding[] } {
  const opened: MockPortBinding[] = [];
  const binding: SerialBinding = {
    list: () => MockBinding.list(),
    open: async (options) => {
      const port = await MockBinding.open(options);
      opened.push(port);
      return port;
    },
  };
  return { binding, opened };
}

function setup(over: Partial<SerialConfig> = {}, logger: Logger = silentLogger) {
  const clock = new FakeClock();
  let present = true;
  const { binding, opened } = recordingBinding();
  const lines: string[] = [];
  // random 0.5 → no jitter, so the backoff is exactly 500, 1000, 2000 ms…
  const reader = new SerialReader({
    config: config(over),
    onLine: (l) => lines.push(l),
    clock,
    logger,
    binding,
    random: () => 0.5,
    deviceExists: async () => present,
  });
  const device = () => {
    const port = opened.at(-1);
    if (!port) throw new Error('no port opened yet');
    return port;
  };
  const setPresent = (value: boolean) => void (present = value);
  return { clock, reader, lines, opened, device, setPresent };
}

/** Makes the open mock port fail its reads, as an unplugged USB adapter does (EIO). */
function unplug(port: MockPortBinding): void {
  port.read = async () => {
    throw Object.assign(new Error('Input/output error'), { code: 'EIO' });
  };
  port.emitData('x'); // wakes the pending read, which now fails
  MockBinding.reset(); // and the device node is gone, so reopening fails too
}

beforeEach(() => MockBinding.reset());
afterEach(() => MockBinding.reset());

describe('SerialReader with MockBinding', () => {
  it('joins a line split across chunks and the CRLF terminator', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { reader, lines, device } = setup();
    await reader.start();
    expect(reader.status().connected).toBe(true);
    device().emitData('1234');
    device().emitData('5678\r');
    device().emitData('\n');
    await vi.waitFor(() => expect(lines).toEqual(['12345678']));
    await reader.stop();
  });

  it('splits several lines in one chunk and ignores empty ones', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { reader, lines, device } = setup();
    await reader.start();
    device().emitData('111\r\n\r\n222\r\n333\r\n');
    await vi.waitFor(() => expect(lines).toEqual(['111', '222', '333']));
    expect(reader.status()).toMatchObject({ lines: 3, dropped: { overlong: 0, garbage: 0 } });
    await reader.stop();
  });

  it('drops binary junk and over-long lines, counting each, and keeps the good ones', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { reader, lines, device } = setup();
    await reader.start();
    device().emitData(Buffer.from([0x00, 0xff, 0x31, 0x0d, 0x0a]));
    device().emitData('\u001b[A\r\n');
    device().emitData(`${'7'.repeat(40)}\r\n44\r\n`);
    await vi.waitFor(() => expect(lines).toEqual(['44']));
    expect(reader.status()).toMatchObject({ lines: 1, dropped: { overlong: 1, garbage: 2 } });
    await reader.stop();
  });

  it('survives a long run without a terminator, then reads the next line', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { reader, lines, device } = setup();
    await reader.start();
    device().emitData('123');
    device().emitData('456\r\n');
    for (let i = 0; i < 50; i++) device().emitData('5'.repeat(1000));
    device().emitData('\r\n');
    device().emitData('789\r\n');
    await vi.waitFor(() => expect(lines).toEqual(['123456', '789']));
    expect(reader.status().dropped).toEqual({ overlong: 1, garbage: 0 });
    await reader.stop();
  });

  it('honours other terminators', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { reader, lines, device } = setup({ terminator: 'tab' });
    await reader.start();
    device().emitData('12\t34\t');
    await vi.waitFor(() => expect(lines).toEqual(['12', '34']));
    await reader.stop();
  });

  it('keeps retrying with backoff when the device is missing at start', async () => {
    const { clock, reader, lines, device } = setup();
    await reader.start();
    expect(reader.status()).toMatchObject({ connected: false, reconnects: 0 });
    expect(reader.status().lastError).toMatch(/^open failed: Port does not exist/);
    expect(clock.pending()).toBe(1);

    clock.advance(499);
    expect(clock.pending()).toBe(1); // first retry is due at 500 ms
    clock.advance(1);
    await vi.waitFor(() => expect(clock.pending()).toBe(1)); // failed again, next one scheduled
    MockBinding.createPort(PATH, { echo: false, record: true });
    clock.advance(1000);
    await vi.waitFor(() => expect(reader.status().connected).toBe(true));
    expect(reader.status()).toMatchObject({ reconnects: 1, lastError: null });
    device().emitData('99\r\n');
    await vi.waitFor(() => expect(lines).toEqual(['99']));
    await reader.stop();
  });

  it('reconnects after the device is unplugged and plugged back', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { clock, reader, lines, device, opened } = setup();
    await reader.start();
    device().emitData('half-a-li');
    unplug(device());
    await vi.waitFor(() => expect(reader.status().connected).toBe(false));
    expect(reader.status().lastError).toBe('device lost: Input/output error');
    expect(clock.pending()).toBe(1);

    clock.advance(500); // device still gone
    await vi.waitFor(() => expect(reader.status().lastError).toMatch(/^open failed/));
    MockBinding.createPort(PATH, { echo: false, record: true });
    clock.advance(1000);
    await vi.waitFor(() => expect(reader.status().connected).toBe(true));
    expect(opened).toHaveLength(2);
    expect(reader.status().reconnects).toBe(1);
    device().emitData('ne\r\n31337\r\n');
    // The half line from before the unplug is not glued onto the first line after it.
    await vi.waitFor(() => expect(lines).toEqual(['ne', '31337']));
    await reader.stop();
  });

  it('treats a vanished device node as lost even if the port never reports it', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { clock, reader, device, setPresent } = setup();
    await reader.start();
    const port = device();
    clock.advance(PRESENCE_CHECK_MS);
    await new Promise((r) => setImmediate(r));
    expect(reader.status().connected).toBe(true); // still there: nothing happens
    setPresent(false);
    clock.advance(PRESENCE_CHECK_MS);
    await vi.waitFor(() => expect(reader.status().connected).toBe(false));
    expect(reader.status().lastError).toBe('device lost: device node disappeared');
    await vi.waitFor(() => expect(port.isOpen).toBe(false)); // closing ends any read in flight
    expect(clock.pending()).toBe(1); // only the reconnect; the presence check went with the port
    await reader.stop();
  });

  it('stop() cancels pending reconnects and closes the port', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { clock, reader, device, opened } = setup();
    await reader.start();
    const first = device();
    await reader.stop();
    expect(first.isOpen).toBe(false);
    expect(reader.status().connected).toBe(false);

    MockBinding.reset();
    await reader.start(); // fails: no device; a retry is pending
    expect(clock.pending()).toBe(1);
    await reader.stop();
    expect(clock.pending()).toBe(0);
    MockBinding.createPort(PATH, { echo: false, record: true });
    clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    expect(opened).toHaveLength(1);
  });

  it('a stop() during an open in flight wins, even if start() follows at once', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    const { clock, reader, opened } = setup();
    const firstStart = reader.start(); // open in flight
    await reader.stop();
    await reader.start(); // may find the port still locked by the stale open: then it retries
    await firstStart;
    clock.advance(RECONNECT_MAX_MS);
    await vi.waitFor(() => expect(reader.status().connected).toBe(true));
    // The stale open was closed again, never adopted: exactly one port is open.
    await vi.waitFor(() => expect(opened.filter((p) => p.isOpen)).toHaveLength(1));
    await reader.stop();
    expect(opened.filter((p) => p.isOpen)).toHaveLength(0);
  });

  it('never logs line content, only lengths and counters', async () => {
    MockBinding.createPort(PATH, { echo: false, record: true });
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged += chunk.toString();
        done();
      },
    });
    const { reader, lines, device } = setup({}, createLogger('trace', sink));
    await reader.start();
    device().emitData(`8106606\r\n8106607\u0007\r\n${'8106608'.repeat(5)}\r\n`);
    await vi.waitFor(() => expect(reader.status().dropped).toEqual({ overlong: 1, garbage: 1 }));
    unplug(device());
    await vi.waitFor(() => expect(reader.status().connected).toBe(false));
    await reader.stop();
    expect(lines).toEqual(['8106606']);
    expect(logged).toContain('line dropped');
    expect(logged).not.toMatch(/810660/);
  });
});
