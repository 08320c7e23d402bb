import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/*
 * The demo's broker. Where Mosquitto is installed the demo starts its own on a free loopback
 * port and speaks MQTT 5 to it, so unlocks carry the broker's message expiry as on a site;
 * otherwise the gateway's embedded broker (aedes), which speaks MQTT 3.1.1 only.
 * LINTEL_DEMO_BROKER=embedded picks the embedded one even where Mosquitto is installed.
 */

export interface DemoBroker {
  kind: 'mosquitto' | 'embedded';
  /** The URL for the gateway's config: a real one, or "embedded" for the gateway to start aedes. */
  configUrl: string;
  protocolVersion: 4 | 5;
  stop(): Promise<void>;
}

const STARTUP_MS = 5000;

export function findMosquitto(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
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

export async function startDemoBroker(env: NodeJS.ProcessEnv = process.env): Promise<DemoBroker> {
  const binary = env.LINTEL_DEMO_BROKER === 'embedded' ? null : findMosquitto(env);
  if (!binary) return { kind: 'embedded', configUrl: 'embedded', protocolVersion: 4, stop: () => Promise.resolve() };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lintel-demo-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  // As the README asks of a site's broker: no Nagle (set_tcp_nodelay), QoS 0 never queued.
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'log_dest none', ''].join('\n'));
  const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill); // a demo that dies must not leave its broker behind
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    process.off('exit', kill);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + STARTUP_MS;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not start on port ${port}: ${stderr.trim() || 'no output'} (LINTEL_DEMO_BROKER=embedded uses the embedded broker)`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { kind: 'mosquitto', configUrl: `mqtt://127.0.0.1:${port}`, protocolVersion: 5, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}
