/**
 * The hardening bench's data and the site it runs: the generated card lists, the config file of
 * the real `lintel run`, the product's own `cards import` run as a child, and the two things the
 * bench reads back from the gateway (audit rows in its SQLite file, index size on /api/status).
 */
import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { DoorState, topics } from '../src/doors/protocol.js';
import { exitOf, memoryOf, sleep, spawnTracked } from './hardening-procs.js';

export const CLI = new URL('../src/cli.js', import.meta.url).pathname;
export const SITE = 'hb';
export const TOKEN = 'bench-token';

/** Card i: a number that is the same in the CSV and on the wire, and the door it opens. */
const CARD_BASE = 10_000_000;
export const cardOf = (i: number): string => String(CARD_BASE + i);
export const doorId = (k: number): string => `d${String(k).padStart(2, '0')}`;
export const readerId = (k: number): string => `r${String(k).padStart(2, '0')}`;

/**
 * Rows [from, from + count): one person, one decimal card and one standing door grant each,
 * card i opening door i mod doors (so every reader has cards it grants). Written in chunks:
 * a 1,000,000-row file is ~40 MB and must not be built as one string.
 */
export function writeCardCsv(file: string, from: number, count: number, doors: number): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, 'email,card,format,doors\n');
    const CHUNK = 20_000;
    for (let start = from; start < from + count; start += CHUNK) {
      const end = Math.min(from + count, start + CHUNK);
      let text = '';
      for (let i = start; i < end; i++) text += `staff${i}@bench.example,${cardOf(i)},decimal,${doorId(i % doors)}\n`;
      writeSync(fd, text);
    }
  } finally {
    closeSync(fd);
  }
}

export interface SiteLayout {
  dir: string;
  httpPort: number;
  brokerUrl: string;
  simUrl: string;
  /** The pty end `lintel run` opens, one per reader/door. */
  readerPaths: string[];
  resources: number;
}

/** A site's config: 20 serial readers each at its own door, the platform mapped onto those doors. */
/** The benches' site without a platform: a door and a serial reader (decimal card lines) per pty. */
export function gatewayConfigLines(site: { dataDir: string; httpPort: number; brokerUrl: string; readerPaths: readonly string[] }): string[] {
  return [
    `site: { id: ${SITE} }`,
    `dataDir: ${site.dataDir}`,
    'log: { level: info }',
    `http: { host: 127.0.0.1, port: ${site.httpPort} }`,
    `mqtt: { url: "${site.brokerUrl}", protocolVersion: 5 }`,
    'doors:',
    ...site.readerPaths.map((_, k) => `  - { id: ${doorId(k)} }`),
    'readers:',
    ...site.readerPaths.map((path, k) => `  - { id: ${readerId(k)}, kind: serial, path: "${path}", terminator: crlf, cardFormat: decimal, door: ${doorId(k)} }`),
  ];
}

export function writeConfig(site: SiteLayout): string {
  const file = join(site.dir, 'lintel.yaml');
  const resources = Array.from({ length: site.resources }, (_, i) => `  - { id: R-${i}, doors: [${doorId(i % site.readerPaths.length)}] }`);
  writeFileSync(
    file,
    [
      ...gatewayConfigLines({ dataDir: join(site.dir, 'data'), httpPort: site.httpPort, brokerUrl: site.brokerUrl, readerPaths: site.readerPaths }),
      'resources:',
      ...resources,
      'upstream:',
      `  baseUrl: "${site.simUrl}"`,
      `  token: ${TOKEN}`,
      `  callbackUrl: "http://127.0.0.1:${site.httpPort}/webhooks/offision"`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Space-separated, to the node of `lintel run`: e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (written when it exits). */
const GATEWAY_NODE_ARGS = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

/** The built `lintel run` on `config` (with GATEWAY_NODE_ARGS), its output into `logFile` as a journal would take it. */
export function spawnGateway(config: string, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'w');
  try {
    return spawnTracked(process.execPath, [...GATEWAY_NODE_ARGS, CLI, 'run', '-c', config], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
}

export const dbFileOf = (dir: string): string => join(dir, 'data', 'lintel.db');

/** Audit rows in the gateway's database, read over a connection of the bench's own (WAL: no lock taken). */
export function countAudit(dbFile: string): number {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/**
 * Waits until the audit table holds `expected` rows, or stops growing for 3 s, or `maxMs` pass.
 * A gateway that queues rows through a held lock writes them late; one that drops them never does.
 */
export async function settleAudit(dbFile: string, expected: number, maxMs: number): Promise<number> {
  const start = Date.now();
  let last = -1;
  let stableSince = start;
  for (;;) {
    const n = countAudit(dbFile);
    if (n >= expected) return n;
    if (n !== last) {
      last = n;
      stableSince = Date.now();
    }
    if (Date.now() - stableSince > 3000 || Date.now() - start > maxMs) return n;
    await sleep(250);
  }
}

export interface ImportRun {
  ms: number;
  code: number | null;
  /** Peak RSS of the import process, sampled from /proc while it ran. */
  peakMb: number | null;
  output: string;
}

/** `lintel cards import FILE -c CONFIG` as an operator runs it, asynchronously (swipes go on meanwhile). */
export async function runCardImport(config: string, csv: string, timeoutMs: number): Promise<ImportRun> {
  const start = performance.now();
  const child = spawnTracked(process.execPath, [CLI, 'cards', 'import', csv, '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-2000)));
  child.stderr?.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-2000)));
  let peakMb: number | null = null;
  const sampler = setInterval(() => {
    const m = memoryOf(child.pid);
    if (m && (peakMb === null || m.peakMb > peakMb)) peakMb = m.peakMb;
  }, 200);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code } = await exitOf(child);
  clearTimeout(timer);
  clearInterval(sampler);
  return { ms: performance.now() - start, code, peakMb, output: output.trim() };
}

export interface StatusView {
  checks: Record<string, { ok: boolean; detail: string }>;
  index: { people: number; cards: number; grants: number };
  upstream: { detail: { callbacks?: { accepted: number; duplicates: number; rejected: Record<string, number> } } } | null;
}

/** /api/status, or null when the gateway does not answer within `timeoutMs` (a stalled event loop). */
export async function fetchStatus(httpPort: number, timeoutMs = 2000): Promise<StatusView | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/status`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? ((await res.json()) as StatusView) : null;
  } catch {
    return null;
  }
}

/**
 * Until every check of the gateway's own (database, MQTT, each reader, the platform link) is ok.
 * The door:<id> checks wait for a controller's state report, and the bench plays the door
 * boards only as command subscribers, so they are left out: ready is the gateway's, not the
 * bench's firmware's.
 */
export async function waitForHealthy(httpPort: number, timeoutMs: number, stillRunning: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < end) {
    if (!stillRunning()) throw new Error('lintel run exited before it was healthy');
    const s = await fetchStatus(httpPort);
    if (s) {
      const failing = Object.entries(s.checks).filter(([name, c]) => !c.ok && !name.startsWith('door:'));
      if (failing.length === 0) return;
      last = failing.map(([name, c]) => `${name}: ${c.detail}`).join('; ');
    }
    await sleep(100);
  }
  throw new Error(`lintel run not healthy within ${timeoutMs} ms (${last})`);
}

/**
 * Every door's controller says it is online (a retained state, as door firmware leaves on the
 * broker): without it each door:<id> check fails and the gateway never reads as healthy.
 */
export async function announceDoors(brokerUrl: string, doors: readonly string[]): Promise<void> {
  const client = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, reconnectPeriod: 0 });
  const t = topics('lintel', SITE);
  const state = new DoorState(true, 'locked', 'closed', Date.now()).serialize();
  for (const door of doors) await client.publishAsync(t.state(door), state, { qos: 1, retain: true });
  await client.endAsync();
}
