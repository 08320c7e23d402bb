import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/*
 * A private Mosquitto on a loopback port: the demo's broker where Mosquitto is installed (MQTT 5,
 * so unlocks carry the broker's message expiry as on a site), and the tests' real broker. One
 * place starts it, waits until it listens, and never leaves it behind.
 */

const STARTUP_MS = 5000;

export interface MosquittoProcess {
  url: string;
  port: number;
  pid: number | null;
  /** SIGTERM, SIGKILL after 2 s; idempotent. */
  stop(): Promise<void>;
}

/** The mosquitto binary on PATH or in the sbin directories Debian installs it to; null if none. */
export function findMosquitto(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (dir === '') continue;
    const path = join(dir, 'mosquitto');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts `binary` on `port` (127.0.0.1 only, anonymous, no persistence) and resolves once it
 * accepts connections. set_tcp_nodelay as the README asks of a site's broker: without it a
 * command to a door waits behind the broker's delayed ACK of that door's previous ack (~40 ms).
 */
export async function startMosquitto(binary: string, port: number, opts: { logToStderr?: boolean } = {}): Promise<MosquittoProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'lintel-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  const logDest = opts.logToStderr ? 'log_dest stderr' : 'log_dest none';
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', logDest, ''].join('\n'));
  const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill); // a process that dies must not leave its broker behind
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = async (): Promise<void> => {
    process.off('exit', kill);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 2000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + STARTUP_MS;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await cleanup();
      throw new Error(`mosquitto did not start on port ${port}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  let stopping: Promise<void> | null = null;
  return { url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid ?? null, stop: () => (stopping ??= cleanup()) };
}
