import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { DoorAck } from '../../src/doors/protocol.js';
import type { DoorSimulator, PulseExecuted } from '../../src/doors/door-simulator.js';
import { systemClock, type Clock } from '../../src/util/clock.js';

/**
 * Shared by the broker-faults and upstream-faults suites (and bench/broker-stall.ts): fault
 * injectors built on node:net, and a recorder of what the reference firmware did.
 */

/**
 * A TCP proxy that holds every chunk `delayMs` before forwarding it, in order, both ways: a
 * broker (or a link to it) that answers, but slowly. The delay can change at any time; a
 * chunk is never forwarded before one that arrived earlier.
 */
export class DelayProxy {
  delayMs = 0;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number): Promise<DelayProxy> {
    let proxy: DelayProxy | null = null;
    const server = createServer((inbound) => {
      const outbound = netConnect({ host: '127.0.0.1', port: targetPort });
      inbound.setNoDelay(true);
      outbound.setNoDelay(true);
      for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
        proxy?.sockets.add(from);
        let releaseAfter = 0;
        from.on('data', (chunk: Buffer) => {
          const p = proxy;
          if (!p) return;
          const at = Math.max(Date.now() + p.delayMs, releaseAfter);
          releaseAfter = at;
          const timer = setTimeout(() => {
            p.timers.delete(timer);
            if (!to.destroyed) to.write(chunk);
          }, at - Date.now());
          p.timers.add(timer);
        });
        from.on('close', () => { to.destroy(); proxy?.sockets.delete(from); });
        from.on('error', () => undefined);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new DelayProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Destroys every live connection (held chunks are dropped with them). */
  cut(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The system clock read `offsetMs` off: a door whose NTP is that far from the gateway's. */
export function skewedClock(offsetMs: number): Clock {
  return { ...systemClock, now: () => Date.now() + offsetMs };
}

/** Every unlock the reference firmware executed and every ack it sent, as it saw them. */
export class FirmwareLog {
  readonly executed: PulseExecuted[] = [];
  readonly acks: DoorAck[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(door: DoorSimulator) {
    door.on('pulse', (p) => { this.executed.push(p); this.wake(); });
    door.on('ack', (a) => { this.acks.push(a); this.wake(); });
  }

  /**
   * Executions whose firmware clock at execution was past the command's expiresAt: the one
   * thing the protocol forbids. Judged on the door's own clock, as the firmware must judge it.
   */
  late(): PulseExecuted[] {
    return this.executed.filter((p) => p.at > p.expiresAt);
  }

  ackOf(id: string): DoorAck | undefined {
    return this.acks.find((a) => a.id === id);
  }

  /** Resolves once every id has an ack; rejects after `ms` (a bound on waiting, not an assertion). */
  async acked(ids: readonly string[], ms = 15_000): Promise<void> {
    await this.until(`acks for ${ids.length} commands`, () => ids.every((id) => this.ackOf(id) !== undefined), ms);
  }

  until(what: string, probe: () => boolean, ms = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (probe()) return resolve();
      const check = (): void => {
        if (!probe()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => { this.waiters.delete(check); reject(new Error(`timed out waiting for ${what}`)); }, ms);
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const fn of [...this.waiters]) fn();
  }
}

/** Polls `probe` on a real timer until true: waits on a child process or the network, never on code under test's timing. */
export async function eventually(what: string, probe: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A hostile or broken platform on loopback HTTP: every request goes to `handle`, which writes
 * whatever the test wants (wrong types, endless bodies, a drip). Counts requests and the body
 * bytes it managed to hand to the socket before the client went away.
 */
export class HostileUpstream {
  requests = 0;
  bytesWritten = 0;
  private readonly server: HttpServer;
  private constructor(server: HttpServer, readonly baseUrl: string) {
    this.server = server;
  }

  static async start(handle: (req: IncomingMessage, res: ServerResponse, self: HostileUpstream) => void): Promise<HostileUpstream> {
    let self: HostileUpstream | null = null;
    const server = createHttpServer((req, res) => {
      self!.requests += 1;
      req.resume();
      handle(req, res, self!);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new HostileUpstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /**
   * Streams `total` bytes of a JSON body that is valid if read to the end (a resources list
   * padded with many entries), honouring backpressure, and stops when the client disconnects.
   */
  streamHugeJson(res: ServerResponse, total: number, declareLength: boolean): void {
    const head = '{"resources":[';
    const item = '{"resourceId":"R-1","name":"padding padding padding padding","type":"room","locationId":"HQ"},';
    const tail = '{"resourceId":"R-2","name":"end","type":"room","locationId":"HQ"}]}';
    const n = Math.max(0, Math.floor((total - head.length - tail.length) / item.length));
    const length = head.length + n * item.length + tail.length;
    res.writeHead(200, declareLength ? { 'content-type': 'application/json', 'content-length': String(length) } : { 'content-type': 'application/json' });
    const chunk = item.repeat(Math.floor(65_536 / item.length));
    const perChunk = Math.floor(65_536 / item.length);
    let left = n;
    let closed = false;
    res.on('close', () => { closed = true; });
    const write = (s: string): boolean => { this.bytesWritten += s.length; return res.write(s); };
    write(head);
    const pump = (): void => {
      while (!closed && left > 0) {
        const take = Math.min(left, perChunk);
        left -= take;
        if (!write(take === perChunk ? chunk : item.repeat(take))) return void res.once('drain', pump);
      }
      if (!closed) { write(tail); res.end(); }
    };
    pump();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
