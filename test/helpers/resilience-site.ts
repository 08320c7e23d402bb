import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startTestBroker, freePort, type TestBroker } from './broker.js';
import { CLI, spawnLintel, waitReady, type LintelProcess } from './lintel-process.js';
import { startSocatPty, type SocatPty } from './pty.js';
import { SITE_ID, writeSiteConfig, type SiteOptions, type SiteReader } from './site-config.js';
import { SqliteProbe } from './sqlite-probe.js';
import { tempDir } from './tmp.js';

/*
 * One door-controller host for the resilience suite: a real Mosquitto, a socat pty per
 * reader, a config file, the built `lintel run`, a subscriber that sees every unlock command,
 * and a probe on the SQLite file. Tests kill, signal and restart the gateway through it.
 */

export interface SiteCreateOptions {
  readers: number;
  doors?: number;
  logLevel?: string;
  /** Adds an `upstream` block and resource mapping (see upstream-site.ts). */
  configure?: (o: SiteOptions) => SiteOptions;
  /** Flags for the node that runs `lintel run` (a bench's --cpu-prof). */
  nodeArgs?: readonly string[];
}

export interface SeenCommand {
  door: string;
  at: number;
  /** performance.now() at arrival: sub-millisecond, for latencies (`at` is wall-clock, whole ms). */
  hrAt: number;
  payload: Record<string, unknown>;
}

export class ResilienceSite {
  readonly dir: string;
  readonly cleanupDir: () => void;
  broker!: TestBroker;
  ptys: SocatPty[] = [];
  readers: SiteReader[] = [];
  doors: string[] = [];
  httpPort = 0;
  configFile = '';
  options!: SiteOptions;
  gateway: LintelProcess | null = null;
  readonly commands: SeenCommand[] = [];
  private sub: mqtt.MqttClient | null = null;
  private writers = new Map<number, number>();
  private probeConn: SqliteProbe | null = null;
  /** Every gateway this site started: close() ends any still alive, whatever a test lost track of. */
  private readonly spawned: LintelProcess[] = [];
  private nodeArgs: readonly string[] = [];

  private constructor() {
    ({ dir: this.dir, cleanup: this.cleanupDir } = tempDir('lintel-resilience-'));
  }

  static async create(o: SiteCreateOptions): Promise<ResilienceSite> {
    const site = new ResilienceSite();
    site.nodeArgs = o.nodeArgs ?? [];
    site.broker = await startTestBroker();
    site.doors = Array.from({ length: o.doors ?? 1 }, (_, i) => `door-${i + 1}`);
    for (let i = 0; i < o.readers; i++) {
      const pty = await startSocatPty(site.dir, `r${i + 1}`);
      site.ptys.push(pty);
      site.readers.push({ id: `reader-${i + 1}`, door: site.doors[i % site.doors.length]!, path: pty.gatewaySide });
    }
    site.httpPort = await freePort();
    let options: SiteOptions = {
      dir: site.dir,
      brokerUrl: site.broker.url,
      protocolVersion: site.broker.protocolVersions.includes(5) ? 5 : 4,
      httpPort: site.httpPort,
      doors: site.doors.map((id) => ({ id })),
      readers: site.readers,
      logLevel: o.logLevel ?? 'info',
    };
    if (o.configure) options = o.configure(options);
    site.options = options;
    site.configFile = writeSiteConfig(options);
    const protocolVersion = options.protocolVersion;
    site.sub = await mqtt.connectAsync(site.broker.url, { protocolVersion });
    site.sub.on('message', (topic, payload) => {
      const door = topic.split('/')[3] ?? '';
      try {
        site.commands.push({ door, at: Date.now(), hrAt: performance.now(), payload: JSON.parse(payload.toString()) as Record<string, unknown> });
      } catch {
        // not ours
      }
    });
    await site.sub.subscribeAsync(`lintel/${SITE_ID}/doors/+/cmd`, { qos: 1 });
    return site;
  }

  get dbFile(): string {
    return join(this.dir, 'data', 'lintel.db');
  }

  /** Rewrites the config file (a reload test changes it between signals). */
  rewriteConfig(change: (o: SiteOptions) => SiteOptions): void {
    this.options = change(this.options);
    this.configFile = writeSiteConfig(this.options);
  }

  /** Starts `lintel run` and waits until it is ready; returns ms from spawn to ready. */
  async start(env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<number> {
    const p = this.spawnOnly(env);
    return waitReady(p, { port: this.httpPort, readers: this.readers.length, timeoutMs });
  }

  spawnOnly(env: NodeJS.ProcessEnv = {}): LintelProcess {
    this.gateway = spawnLintel(['run', '-c', this.configFile], env, CLI, this.nodeArgs);
    this.spawned.push(this.gateway);
    return this.gateway;
  }

  /** The test's connection to the SQLite file (reopened if a test closed it). */
  probe(): SqliteProbe {
    if (!this.probeConn || !this.probeConn.db.open) this.probeConn = new SqliteProbe(this.dbFile);
    return this.probeConn;
  }

  /** Writes raw bytes into reader `i` as its hardware would (the device end of the pty). */
  write(i: number, data: string | Buffer): boolean {
    let fd = this.writers.get(i);
    try {
      if (fd === undefined) this.writers.set(i, (fd = openSync(this.ptys[i]!.deviceSide, 'w')));
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      return true;
    } catch {
      this.dropWriter(i);
      return false;
    }
  }

  swipe(i: number, card: string): boolean {
    return this.write(i, `${card}\r\n`);
  }

  /** Unplugs reader `i` (socat ends, both pty ends hang up) and plugs a new one in at the same path. */
  async replug(i: number, downMs = 300): Promise<void> {
    this.dropWriter(i);
    await this.ptys[i]!.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.ptys[i] = await startSocatPty(this.dir, `r${i + 1}`);
  }

  async unplug(i: number): Promise<void> {
    this.dropWriter(i);
    await this.ptys[i]!.stop();
  }

  async plug(i: number): Promise<void> {
    this.ptys[i] = await startSocatPty(this.dir, `r${i + 1}`);
  }

  /** `lintel cards import CSV` as a separate process, as an operator runs it; resolves with its exit. */
  importCards(csv: string, name: string): Promise<{ code: number | null; stderr: string }> {
    const file = join(this.dir, `${name}.csv`);
    writeFileSync(file, csv);
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, 'cards', 'import', file, '-c', this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.once('exit', (code) => resolve({ code, stderr: err }));
    });
  }

  async close(): Promise<void> {
    for (const p of this.spawned) if (p.alive()) await p.stop().catch(() => undefined);
    this.probeConn?.close();
    for (const i of [...this.writers.keys()]) this.dropWriter(i);
    await this.sub?.endAsync().catch(() => undefined);
    for (const p of this.ptys) await p.stop().catch(() => undefined);
    await this.broker?.stop();
    this.cleanupDir();
  }

  private dropWriter(i: number): void {
    const fd = this.writers.get(i);
    this.writers.delete(i);
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already gone with the pty
      }
    }
  }
}
