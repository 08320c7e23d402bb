import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoorSimulator } from '../../src/doors/door-simulator.js';
import { freePort, startTestBroker, type TestBroker } from '../helpers/broker.js';
import { CLI, GatewayProcess, waitFor } from '../helpers/gateway-process.js';
import { parsePromText, promFamilies, promValue, type PromSample } from '../helpers/prom-text.js';
import { tempDir } from '../helpers/tmp.js';
import { UPSTREAM_TOKEN, UpstreamSite } from '../helpers/upstream-site.js';

/*
 * /metrics of the built `lintel run` with a real broker, a simulated door board, a stdin reader
 * and the booking-platform simulator: a card is badged, the door acks, the platform calls back
 * and a sweep runs. The scrape, over loopback HTTP, must pass `promtool check metrics` (the
 * format and its lint: help texts, units in names, counters ending in _total) and carry each
 * family the README lists, with values that follow from what happened.
 */

/** The family names in the README's Metrics table (first column, one or more `lintel_*` names). */
function readmeFamilies(): string[] {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('### Metrics'), readme.indexOf('## Security'));
  return table.split('\n').filter((l) => l.startsWith('| `lintel_')).flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`(lintel_[a-z_]+)`/g)].map((m) => m[1]!));
}

describe('metrics, scraped and checked by promtool', () => {
  let dir: string;
  let cleanup: () => void;
  let broker: TestBroker;
  let platform: UpstreamSite;
  let door: DoorSimulator;
  let gw: GatewayProcess;
  let port: number;

  beforeAll(async () => {
    // Not skipped without it: this check is the point of the test (.ci/run installs Debian's prometheus).
    if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('promtool not found: apt-get install prometheus');
    ({ dir, cleanup } = tempDir());
    broker = await startTestBroker();
    platform = await new UpstreamSite(['R-1']).start();
    port = await freePort();
    const protocolVersion = broker.protocolVersions.includes(5) ? 5 : 4;
    const config = join(dir, 'lintel.yaml');
    writeFileSync(config, [
      'site: { id: prom }',
      `dataDir: ${join(dir, 'data')}`,
      `http: { host: 127.0.0.1, port: ${port} }`,
      `mqtt: { url: "${broker.url}", protocolVersion: ${protocolVersion} }`,
      'doors:',
      '  - { id: front }',
      'readers:',
      '  - { id: desk, kind: stdin, door: front, maxLineLength: 64 }',
      'resources:',
      '  - { id: R-1, doors: [front] }',
      'upstream:',
      `  baseUrl: ${platform.sim.baseUrl}`,
      `  callbackUrl: http://127.0.0.1:${port}/webhooks/offision`,
      `  token: ${UPSTREAM_TOKEN}`,
      '',
    ].join('\n'));
    const cards = join(dir, 'cards.csv');
    writeFileSync(cards, 'email,name,card,format,doors\nana@example.com,Ana,7340861,decimal,front\n');
    execFileSync(process.execPath, [CLI, 'cards', 'import', cards, '-c', config], { stdio: 'pipe' });
    door = new DoorSimulator({ url: broker.url, prefix: 'lintel', siteId: 'prom', doorId: 'front', protocolVersion });
    await door.start();
    gw = new GatewayProcess(config);
    await gw.started();
  }, 40_000);

  afterAll(async () => {
    await gw?.stop();
    await door?.stop();
    await platform?.stop();
    await broker?.stop();
    cleanup?.();
  });

  const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
  const scrape = async (): Promise<{ text: string; samples: PromSample[] }> => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, samples: parsePromText(text) };
  };
  const until = <T>(what: string, probe: (s: PromSample[]) => T | undefined) =>
    waitFor(what, async () => probe((await scrape()).samples), 20_000);

  it('passes promtool and carries every family the README lists, with values from what happened', async () => {
    await until('door online', (s) => (promValue(s, 'lintel_door_online', { door: 'front' }) === 1 ? true : undefined));
    gw.typeLine('7340861');
    gw.typeLine('9'.repeat(100)); // past maxLineLength: dropped by the reader, never decided
    gw.typeLine('4242');
    await until('the door acked the unlock', (s) => ((promValue(s, 'lintel_door_ack_latency_seconds_count', { door: 'front' }) ?? 0) >= 1 ? true : undefined));
    await until('a sweep of the platform', (s) => ((promValue(s, 'lintel_reconcile_duration_seconds_count') ?? 0) >= 1 ? true : undefined));
    await waitFor('subscribed to the platform', () => (platform.subscribed() ? true : undefined), 20_000);
    platform.book('R-1', 'ana@example.com');
    await until('the callback answered', (s) => ((promValue(s, 'lintel_platform_callbacks_total', { status: '200', outcome: 'accepted' }) ?? 0) >= 1 ? true : undefined));

    const { text, samples } = await scrape();
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: checked.status, out: checked.stdout + checked.stderr }).toEqual({ status: 0, out: '' });

    // The README's table and the scrape list the same lintel_* families, and the process ones are there.
    const families = promFamilies(text);
    const documented = readmeFamilies();
    expect(documented.length).toBeGreaterThan(20);
    expect([...families].filter((f) => f.startsWith('lintel_')).sort()).toEqual([...documented].sort());
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) {
      expect(families, name).toContain(name);
    }

    expect(promValue(samples, 'lintel_decisions_total', { result: 'granted', reason: 'granted' })).toBeGreaterThanOrEqual(1);
    expect(promValue(samples, 'lintel_decisions_total', { result: 'denied', reason: 'unknown_credential' })).toBeGreaterThanOrEqual(1);
    expect(promValue(samples, 'lintel_decision_latency_seconds_count', { kind: 'card' })).toBeGreaterThanOrEqual(2);
    expect(promValue(samples, 'lintel_swipe_to_publish_seconds_count')).toBeGreaterThanOrEqual(1);
    // Every observation lies in the +Inf bucket, and the count says how many there were.
    expect(promValue(samples, 'lintel_swipe_to_publish_seconds_bucket', { le: '+Inf' })).toBe(promValue(samples, 'lintel_swipe_to_publish_seconds_count'));
    expect(promValue(samples, 'lintel_door_online', { door: 'front' })).toBe(1);
    expect(promValue(samples, 'lintel_door_healthy', { door: 'front' })).toBe(1);
    expect(promValue(samples, 'lintel_door_acks_missing_total')).toBe(0);
    expect(promValue(samples, 'lintel_reader_connected', { reader: 'desk' })).toBe(1);
    expect(promValue(samples, 'lintel_reader_lines_total', { reader: 'desk' })).toBe(2);
    expect(promValue(samples, 'lintel_reader_dropped_lines_total', { reader: 'desk', why: 'overlong' })).toBe(1);
    expect(promValue(samples, 'lintel_reader_errors_total', { reader: 'desk' })).toBe(0);
    expect(promValue(samples, 'lintel_upstream_state', { state: 'ok' })).toBe(1);
    expect(samples.filter((s) => s.name === 'lintel_upstream_state').reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(promValue(samples, 'lintel_mqtt_connected')).toBe(1);
    const build = samples.filter((s) => s.name === 'lintel_build_info');
    expect(build).toHaveLength(1);
    expect(build[0]).toMatchObject({ value: 1, labels: { node: expect.stringMatching(/^\d+\.\d+\.\d+$/) as unknown as string } });
    expect(promValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  }, 90_000);
});
