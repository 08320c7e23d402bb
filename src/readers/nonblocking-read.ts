import { readSync } from 'node:fs';

/*
 * Why the OS binding's reads are replaced. The serialport binding reads a tty with fs.read,
 * i.e. through libuv's thread pool, which the gateway shares with every file write (the log
 * stream among them): each badge line cost a pool round trip and a promise chain (~0.4 ms of
 * main thread per line with 20 readers busy, the largest share of the load profile), and a
 * pool held by slow disk writes would hold badge reads too. The binding opens the device
 * O_NONBLOCK with VMIN 1 (bindings-cpp: serialport_unix.cpp, linux.js), so a read(2) never
 * blocks: it returns bytes, or EAGAIN when there are none, or 0 only when the line was hung
 * up. Reading it directly, after the binding's own epoll poller says "readable", is a
 * syscall of microseconds on the main thread and no pool at all.
 *
 * A hang-up (0 bytes) is reported as a disconnect: the binding's read retried it in a tight
 * loop until the presence check noticed the device node was gone.
 */

/*
 * serialport's binding interface, as far as this file uses it. Its own typings
 * (@serialport/bindings-interface) do not resolve under NodeNext, so the shape is stated here.
 */
interface BindingPortInterface {
  readonly openOptions: object;
  readonly isOpen: boolean;
  close(): Promise<void>;
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
  write(buffer: Buffer): Promise<void>;
  update(options: { baudRate: number }): Promise<void>;
  set(options: object): Promise<void>;
  get(): Promise<object>;
  getBaudRate(): Promise<{ baudRate: number }>;
  flush(): Promise<void>;
  drain(): Promise<void>;
}

export interface BindingInterface {
  list(): Promise<unknown[]>;
  open(options: object): Promise<BindingPortInterface>;
}

/** What the Linux/macOS port binding has beside its interface: its fd and epoll poller. */
interface UnixPortInternals {
  fd: number | null;
  poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
}

function hasUnixInternals(port: BindingPortInterface): port is BindingPortInterface & UnixPortInternals {
  const p = port as Partial<UnixPortInternals>;
  return typeof p.fd === 'number' && typeof p.poller?.once === 'function';
}

function disconnected(message: string, code: string): Error {
  return Object.assign(new Error(message), { code, disconnect: true });
}

/** A port whose reads go straight to read(2); everything else is the OS binding's. */
class NonBlockingReadPort implements BindingPortInterface {
  constructor(private readonly inner: BindingPortInterface & UnixPortInternals) {}

  get openOptions(): object {
    return this.inner.openOptions;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    for (;;) {
      const fd = this.inner.fd;
      if (!this.inner.isOpen || fd === null) throw Object.assign(new Error('Port is not open'), { canceled: true });
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buffer, offset, length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') {
          await this.readable();
          continue;
        }
        // EIO: a pty whose other side closed, a USB adapter pulled mid-read.
        if (code === 'EIO' || code === 'ENXIO' || code === 'EBADF') Object.assign(err as object, { disconnect: true });
        throw err;
      }
      if (bytesRead === 0) throw disconnected('serial line hung up', 'EIO');
      return { buffer, bytesRead };
    }
  }

  /** Resolves when the poller reports data; rejects (canceled) when the port is closed meanwhile. */
  private readable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.inner.poller.once('readable', (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
  write(buffer: Buffer): Promise<void> {
    return this.inner.write(buffer);
  }
  update(options: { baudRate: number }): Promise<void> {
    return this.inner.update(options);
  }
  set(options: object): Promise<void> {
    return this.inner.set(options);
  }
  get(): Promise<object> {
    return this.inner.get();
  }
  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
}

/**
 * The OS binding with reads done by read(2) on its non-blocking fd. A port without an fd and
 * poller (another platform's binding) is returned as the binding made it.
 */
export function withNonBlockingReads(base: BindingInterface): BindingInterface {
  return {
    list: () => base.list(),
    async open(options: object) {
      const port = await base.open(options);
      return hasUnixInternals(port) ? new NonBlockingReadPort(port) : port;
    },
  };
}
