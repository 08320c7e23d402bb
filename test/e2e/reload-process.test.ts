import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { Zigbee2MqttSimulator } from '../../src/doors/simulators/device-sims.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { CLI, GatewayProcess, getJson, waitFor } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * SIGHUP to the built `lintel run`, as `systemctl reload` sends it. A reload that cannot be
 * applied must leave the process up, the running configuration in place and the database
 * untouched; one that can says which changed fields it applied and which need a restart.
 */

interface Shape {
  pulseMs?: number;
  /** A third door, as its YAML flow mapping. */
  extraDoor?: string;
  resources?: Record<string, string[]>;
  tokenFile?: string;
  logLevel?: string;
}

describe('lintel run: reload by SIGHUP', () => {
  let dir: string;
  let cleanup: () => void;
  let broker: TestBroker;
  let gw: GatewayProcess;
  let port: number;
  let config: string;
  let tokenFile: string;
  let dbFile: string;

  function yaml(s: Shape = {}): string {
    const resources = s.resources ?? { 'R-1': ['front'] };
    return [
      'site: { id: reload }',
      `dataDir: ${join(dir, 'data')}`,
      `log: { level: ${s.logLevel ?? 'info'} }`,
      'http: { host: 127.0.0.1, port: 0 }',
      `mqtt: { url: "${broker.url}", protocolVersion: ${broker.protocolVersions.includes(5) ? 5 : 4} }`,
      'doors:',
      `  - { id: front, pulseMs: ${s.pulseMs ?? 1500} }`,
      '  - { id: lab }',
      ...(s.extraDoor ? [`  - ${s.extraDoor}`] : []),
      'readers:',
      '  - { id: desk, kind: stdin, door: front }',
      'resources:',
      ...Object.entries(resources).map(([id, doors]) => `  - { id: ${id}, doors: [${doors.join(', ')}] }`),
      'upstream:',
      '  baseUrl: http://127.0.0.1:9',
      '  callbackUrl: http://127.0.0.1:9/webhooks/offision',
      `  tokenFile: ${s.tokenFile ?? tokenFile}`,
      '',
    ].join('\n');
  }

  function mapping(): Record<string, string[]> {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT resource_id, door_id FROM resource_doors ORDER BY resource_id, door_id').all() as { resource_id: string; door_id: string }[];
      const out: Record<string, string[]> = {};
      for (const r of rows) (out[r.resource_id] ??= []).push(r.door_id);
      return out;
    } finally {
      db.close();
    }
  }

  async function reload(s: Shape | string): Promise<number> {
    writeFileSync(config, typeof s === 'string' ? s : yaml(s));
    const from = gw.lines.length;
    gw.signal('SIGHUP');
    return from;
  }

  async function granted(): Promise<void> {
    const before = (await getJson<{ recent: unknown[] }>(port, '/api/status')).recent.length;
    gw.typeLine('7340861');
    await waitFor('a new decision', async () => {
      const recent = (await getJson<{ recent: { result: string }[] }>(port, '/api/status')).recent;
      return recent.length > before ? recent[0] : undefined;
    });
    const latest = (await getJson<{ recent: { result: string; doorId: string }[] }>(port, '/api/status')).recent[0];
    expect(latest).toMatchObject({ result: 'granted', doorId: 'front' });
  }

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    broker = await startTestBroker();
    config = join(dir, 'lintel.yaml');
    tokenFile = join(dir, 'upstream-token');
    dbFile = join(dir, 'data', 'lintel.db');
    writeFileSync(tokenFile, 'platform-token\n', { mode: 0o600 });
    writeFileSync(config, yaml());
    const cards = join(dir, 'cards.csv');
    writeFileSync(cards, 'email,name,card,format,doors\nana@example.com,Ana,0007340861,decimal,front\n');
    execFileSync(process.execPath, [CLI, 'cards', 'import', cards, '-c', config], { stdio: 'pipe' });
    gw = new GatewayProcess(config);
    port = await gw.started();
  }, 30_000);

  afterAll(async () => {
    await gw?.stop();
    await broker?.stop();
    cleanup?.();
  });

  it('applies a changed pulseMs live: the next unlock carries it', async () => {
    const observer = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      const pulses: number[] = [];
      observer.on('message', (_t, payload) => pulses.push((JSON.parse(payload.toString()) as { pulseMs: number }).pulseMs));
      await observer.subscribeAsync('lintel/reload/doors/front/cmd', { qos: 1 });
      const from = await reload({ pulseMs: 2500 });
      const line = await gw.waitLog('configuration reloaded', { from });
      expect(line.applied).toEqual(['doors.front.pulseMs']);
      expect(line.restartNeeded).toEqual([]);
      await granted();
      expect(await waitFor('the unlock on the wire', () => pulses[0])).toBe(2500);
    } finally {
      await observer.endAsync(true);
    }
  });

  it('applies log.level live, to the loggers the parts made at start too', async () => {
    const overlong = 'x'.repeat(300); // a reader drops it with a debug line from its own child logger
    gw.typeLine(overlong);
    const from = await reload({ logLevel: 'debug' });
    const line = await gw.waitLog('configuration reloaded', { from });
    expect(line.applied).toEqual(expect.arrayContaining(['log.level']));
    expect(line.restartNeeded).toEqual([]);
    gw.typeLine(overlong);
    const dropped = await gw.waitLog('line dropped', { from });
    expect(dropped.level).toBe(20);
    const back = await reload({});
    expect((await gw.waitLog('configuration reloaded', { from: back })).applied).toEqual(expect.arrayContaining(['log.level']));
  });

  it('keeps running, and keeps the running token, when the token file was moved away', async () => {
    renameSync(tokenFile, `${tokenFile}.moved`);
    try {
      const from = await reload({ resources: { 'R-1': ['lab'] } });
      const line = await gw.waitLog('reload rejected', { from });
      expect((line.problems as string[]).some((p) => p.startsWith('upstream.tokenFile: '))).toBe(true);
      expect(gw.alive).toBe(true);
      expect(mapping()).toEqual({ 'R-1': ['front'] }); // nothing applied: all or nothing
      // The token read at start is still in use: an empty one would have disabled the link.
      expect((await getJson<{ upstream: { state: string } }>(port, '/api/status')).upstream.state).not.toBe('disabled');
      await granted();
    } finally {
      renameSync(`${tokenFile}.moved`, tokenFile);
    }
  });

  it('adds a door with an off-the-shelf driver live: the store maps it, the relay follows its device', async () => {
    const device = new Zigbee2MqttSimulator({ url: broker.url, topic: 'zigbee2mqtt/side-relay' });
    await device.start();
    try {
      const from = await reload({ extraDoor: '{ id: side, driver: zigbee2mqtt, topic: zigbee2mqtt/side-relay }', resources: { 'R-1': ['front'], 'R-2': ['side'] } });
      const line = await gw.waitLog('configuration reloaded', { from });
      expect(line.applied).toEqual(expect.arrayContaining(['doors.side', 'resources.R-2']));
      expect(mapping()).toEqual({ 'R-1': ['front'], 'R-2': ['side'] });
      // The retained availability reaches the gateway once it subscribed to the new door's topics.
      await waitFor('the new door online', async () => {
        const doors = (await getJson<{ doors: { id: string; online: boolean | null }[] }>(port, '/api/status')).doors;
        return doors.find((d) => d.id === 'side' && d.online === true);
      });
      await granted();
    } finally {
      await device.stop();
    }
  });

  it('retries a reload that met another connection holding the write lock, then applies it', async () => {
    const other = new Database(dbFile);
    // The test's own connection may wait for its lock: the gateway commits now and then (audit
    // rows, the upstream thread), and with no timeout this BEGIN lost to one of those in CI.
    other.pragma('busy_timeout = 5000');
    other.exec('BEGIN IMMEDIATE');
    let held = true;
    try {
      const from = await reload({ resources: { 'R-1': ['front', 'lab'] } });
      const failed = await gw.waitLog('reload attempt failed', { from, ms: 20_000 });
      expect(String(failed.err)).toMatch(/locked|busy/i);
      expect(gw.alive).toBe(true);
      other.exec('ROLLBACK');
      held = false;
      const line = await gw.waitLog('configuration reloaded', { from, ms: 20_000 });
      expect(line.applied).toEqual(expect.arrayContaining(['resources.R-1.doors']));
      expect(mapping()).toEqual({ 'R-1': ['front', 'lab'] });
    } finally {
      if (held) other.exec('ROLLBACK');
      other.close();
    }
  }, 40_000);

  it('survives a storm of 100 SIGHUPs with valid, invalid and half-written files and keeps deciding', async () => {
    const variants: Array<() => string> = [
      () => yaml({ resources: { 'R-1': ['front'] } }),
      () => yaml({ resources: { 'R-1': ['lab'], 'R-3': ['front', 'lab'] } }),
      () => 'site: { id: reload\n', // invalid YAML
      () => yaml({ resources: { 'R-1': ['nowhere'] } }), // schema error
      () => yaml({ extraDoor: '{ id: side }', resources: { 'R-9': ['side'] } }), // a new door, live
      () => yaml({ tokenFile: join(dir, 'no-such-token') }), // unreadable secret
      () => {
        const full = yaml({ resources: { 'R-1': ['lab'] } });
        return full.slice(0, Math.floor(Math.random() * full.length)); // half-written
      },
    ];
    for (let i = 0; i < 100; i++) {
      writeFileSync(config, variants[i % variants.length]!());
      gw.signal('SIGHUP');
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 30));
      expect(gw.alive).toBe(true);
    }
    const from = await reload({ resources: { 'R-1': ['lab'], 'R-4': ['front'] } });
    await gw.waitLog('configuration reloaded', { from, ms: 30_000, match: (l) => gw.lines.indexOf(l) >= from });
    await waitFor('final mapping', () => (JSON.stringify(mapping()) === JSON.stringify({ 'R-1': ['lab'], 'R-4': ['front'] }) ? true : undefined));
    expect(gw.alive).toBe(true);
    await granted();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/lintel_reloads_total\{result="rejected"\} [1-9]/);
  }, 60_000);
});
