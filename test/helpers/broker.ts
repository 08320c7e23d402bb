import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedBroker } from '../../src/doors/embedded-broker.js';

export interface TestBroker {
  url: string;
  port: number;
  kind: 'mosquitto' | 'embedded';
  /** MQTT protocol versions this broker speaks (aedes: 4 only; mosquitto: 4 and 5). */
  protocolVersions: ReadonlyArray<4 | 5>;
  /** The mosquitto process (fault tests send it SIGSTOP, SIGCONT, SIGKILL); null in-process. */
  pid: number | null;
  stop(): Promise<void>;
}

export interface TestBrokerOptions {
  /** Reuse a port, e.g. to bring a broker "back" where clients expect it. Default: a free one. */
  port?: number;
  /** Force the in-process broker even when mosquitto is installed. */
  embedded?: boolean;
}

const STARTUP_TIMEOUT_MS = 5000;
let mosquittoPath: string | null | undefined;

function findMosquitto(): string | null {
  if (mosquittoPath !== undefined) return mosquittoPath;
  const found = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  mosquittoPath = found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : null;
  return mosquittoPath;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
}

/** Polls with a real timer: this waits on a child process, not on code under test. */
async function waitUntilListening(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mosquitto exited during startup: ${stderr()}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${STARTUP_TIMEOUT_MS} ms: ${stderr()}`);
}

async function startMosquitto(binary: string, port: number): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'lintel-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  // set_tcp_nodelay as README recommends for a site: without it a command to a door waits
  // behind the broker's unacknowledged PUBACK for that door's previous ack (delayed ACK, ~40 ms).
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'log_dest stderr', ''].join('\n'),
  );
  const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errText = '';
  child.stderr?.on('data', (chunk: Buffer) => { errText = (errText + chunk.toString()).slice(-4000); });
  // A crashed or aborted test run must not leave brokers behind.
  const killOnExit = (): void => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilListening(port, child, () => errText);
  } catch (err) {
    await cleanup();
    throw err;
  }
  let stopping: Promise<void> | null = null;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kind: 'mosquitto',
    protocolVersions: [4, 5],
    pid: child.pid ?? null,
    stop: () => (stopping ??= cleanup()),
  };
}

/** A real broker for tests: mosquitto on a free loopback port when installed, else aedes in-process. */
export async function startTestBroker(opts: TestBrokerOptions = {}): Promise<TestBroker> {
  const binary = opts.embedded ? null : findMosquitto();
  if (binary) return startMosquitto(binary, opts.port ?? (await freePort()));
  const broker = await startEmbeddedBroker({ port: opts.port ?? 0 });
  return { url: broker.url, port: broker.port, kind: 'embedded', protocolVersions: [4], pid: null, stop: () => broker.close() };
}
