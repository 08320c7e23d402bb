import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { CLI, GatewayProcess, getJson, waitFor } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Start and stop of the built `lintel run`: a missing or unsafe secret file is a faulted link,
 * not a dead gateway; a fatal start failure exits non-zero; SIGTERM ends the process promptly
 * and closes the store even when a part's stop would hang.
 */

interface Health {
  status: string;
  checks: Record<string, { ok: boolean; detail: string }>;
}

describe('lintel run: start faults and stop', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function setup(lines: (dir: string) => string[]): { dir: string; config: string } {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const config = join(dir, 'lintel.yaml');
    writeFileSync(config, [...lines(dir), ''].join('\n'));
    return { dir, config };
  }

  function run(config: string): GatewayProcess {
    const gw = new GatewayProcess(config);
    cleanups.push(() => gw.stop());
    return gw;
  }

  async function brokerUp(): Promise<TestBroker> {
    const broker = await startTestBroker();
    cleanups.push(() => broker.stop());
    return broker;
  }

  it('starts with the token and MQTT password files missing, decides from the cache, shows the faults and heals when they appear', async () => {
    const broker = await brokerUp();
    const { dir, config } = setup((d) => [
      'site: { id: faults }',
      `dataDir: ${join(d, 'data')}`,
      'http: { host: 127.0.0.1, port: 0 }',
      `mqtt: { url: "${broker.url}", protocolVersion: 4, passwordFile: ${join(d, 'mqtt-password')}, username: gw }`,
      'doors: [{ id: front }]',
      'readers: [{ id: desk, kind: stdin, door: front }]',
      'upstream:',
      '  baseUrl: http://127.0.0.1:9',
      '  callbackUrl: http://127.0.0.1:9/webhooks/offision',
      `  tokenFile: ${join(d, 'upstream-token')}`,
    ]);
    const cards = join(dir, 'cards.csv');
    writeFileSync(cards, 'email,card,doors\nana@example.com,7340861,front\n');
    execFileSync(process.execPath, [CLI, 'cards', 'import', cards, '-c', config], { stdio: 'pipe' });
    const gw = run(config);
    const port = await gw.started();

    const health = await getJson<Health>(port, '/health');
    expect(health.status).toBe('degraded');
    expect(health.checks['file:upstream.tokenFile']).toMatchObject({ ok: false, detail: expect.stringMatching(/cannot read/) });
    expect(health.checks['file:mqtt.passwordFile']).toMatchObject({ ok: false, detail: expect.stringMatching(/cannot read/) });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('lintel_secret_file_fault{field="mqtt.passwordFile"} 1');

    gw.typeLine('7340861');
    const decision = await waitFor('a decision', async () => (await getJson<{ recent: { result: string; relay: string }[] }>(port, '/api/status')).recent[0]);
    expect(decision).toMatchObject({ result: 'granted', relay: 'unreachable' });

    // A file readable by others is refused with the reason, not used.
    writeFileSync(join(dir, 'mqtt-password'), 'pw\n', { mode: 0o644 });
    chmodSync(join(dir, 'mqtt-password'), 0o644);
    await waitFor('too-open refusal', async () => {
      const h = await getJson<Health>(port, '/health');
      return /readable by group\/others/.test(h.checks['file:mqtt.passwordFile']?.detail ?? '') ? true : undefined;
    });

    chmodSync(join(dir, 'mqtt-password'), 0o600);
    writeFileSync(join(dir, 'upstream-token'), 'platform-token\n', { mode: 0o600 });
    await waitFor('healed', async () => {
      const h = await getJson<Health>(port, '/health');
      return h.checks.mqtt?.ok && h.checks['file:mqtt.passwordFile'] === undefined && h.checks['file:upstream.tokenFile'] === undefined ? true : undefined;
    }, 20_000);
  }, 40_000);

  it('exits non-zero when the HTTP port is taken', async () => {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const broker = await brokerUp();
    const { config } = setup((d) => [
      'site: { id: busy }',
      `dataDir: ${join(d, 'data')}`,
      `http: { host: 127.0.0.1, port: ${port} }`,
      `mqtt: { url: "${broker.url}", protocolVersion: 4 }`,
      'doors: [{ id: front }]',
    ]);
    const gw = run(config);
    const { code } = await gw.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(gw.stderr).toContain('start failed');
  });

  it('exits non-zero when the embedded broker port is taken', async () => {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const { config } = setup((d) => [
      'site: { id: busy }',
      `dataDir: ${join(d, 'data')}`,
      'http: { host: 127.0.0.1, port: 0 }',
      `mqtt: { url: embedded, embeddedPort: ${port} }`,
      'doors: [{ id: front }]',
    ]);
    const { code } = await run(config).exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
  });

  it('exits non-zero when the database cannot be opened', async () => {
    const { dir, config } = setup((d) => [
      'site: { id: nodb }',
      `dataDir: ${join(d, 'not-a-dir', 'data')}`,
      'http: { host: 127.0.0.1, port: 0 }',
      'mqtt: { url: "mqtt://127.0.0.1:9" }',
      'doors: [{ id: front }]',
    ]);
    writeFileSync(join(dir, 'not-a-dir'), 'a file where the data directory should be');
    const { code } = await run(config).exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
  });

  it('SIGTERM ends the process promptly and closes the store while the broker is hung', async () => {
    const broker = await brokerUp();
    const { dir, config } = setup((d) => [
      'site: { id: hung }',
      `dataDir: ${join(d, 'data')}`,
      'http: { host: 127.0.0.1, port: 0 }',
      `mqtt: { url: "${broker.url}", protocolVersion: 4, keepaliveSec: 60 }`,
      'doors: [{ id: front }]',
    ]);
    const gw = run(config);
    const port = await gw.started();
    await waitFor('mqtt connected', async () => ((await getJson<Health>(port, '/health')).checks.mqtt?.ok ? true : undefined));
    const pid = Number(execFileSync('sh', ['-c', `ss -ltnpH 'sport = :${broker.port}' | sed -n 's/.*pid=\\([0-9]*\\).*/\\1/p' | head -1`]).toString().trim());
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGSTOP');
    cleanups.push(() => void process.kill(pid, 'SIGCONT'));
    gw.signal('SIGTERM');
    const exit = await Promise.race([gw.exited, new Promise<null>((r) => setTimeout(() => r(null), 12_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(gw.lines.some((l) => l.msg === 'store closed')).toBe(true);
    // The last connection to close removes the WAL: nothing is left half-written.
    expect(existsSync(join(dir, 'data', 'lintel.db-wal'))).toBe(false);
  }, 30_000);
});
