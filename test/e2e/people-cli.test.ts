import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ReaderConfig } from '../../src/config/schema.js';
import { Gateway } from '../../src/gateway.js';
import type { DecisionEvent } from '../../src/pipeline/recent-decisions.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 9 #8 as an operator meets it: `lintel people suspend|reinstate` and `lintel qr revoke`,
 * run from another process (the built CLI) against the database of a running gateway, which
 * picks the commit up and decides accordingly.
 */

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

async function until<T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('lintel people / qr revoke against a running gateway', () => {
  let dir: string;
  let cleanup: () => void;
  let config: string;
  let gateway: Gateway;
  const lintel = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args, '-c', config], { encoding: 'utf8' });
  const reader = (id: string, payload: 'card' | 'qr'): ReaderConfig =>
    ({ id, kind: 'stdin', door: 'front', payload, cardFormat: 'decimal', maxLineLength: 256, direction: 'in' }) as ReaderConfig;
  const card = reader('desk', 'card');
  const scanner = reader('scanner', 'qr');

  /** Feeds one read and returns its decision. */
  const decisions: DecisionEvent[] = [];
  async function read(r: ReaderConfig, line: string): Promise<DecisionEvent> {
    const n = decisions.length;
    gateway.pipeline.onLine(r, line);
    return until('decision', () => decisions[n]);
  }

  /** Reads until the decision has `reason`: the gateway notices another process's commit within its poll interval. */
  async function eventually(r: ReaderConfig, line: string, reason: string): Promise<void> {
    const end = Date.now() + 10_000;
    for (;;) {
      const d = await read(r, line);
      if (d.reason === reason) return;
      if (Date.now() > end) throw new Error(`still ${d.reason}, wanted ${reason}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    config = join(dir, 'lintel.yaml');
    const raw = {
      site: { id: 'cli' },
      dataDir: join(dir, 'data'),
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { url: 'mqtt://127.0.0.1:1' }, // no broker: decisions are still made and recorded
      doors: [{ id: 'front' }],
      bruteForce: { maxFailures: 1000, windowSec: 60, lockoutSec: 1 },
    };
    writeFileSync(config, JSON.stringify(raw));
    writeFileSync(join(dir, 'cards.csv'), 'email,card,doors\nana@example.com,1001,front\n');
    expect(lintel('cards', 'import', join(dir, 'cards.csv')).status).toBe(0);
    gateway = new Gateway({ config: parseConfig(raw), logger: silentLogger });
    await gateway.start();
    gateway.pipeline.onDecision((e) => decisions.push(e));
  });
  afterAll(async () => {
    await gateway?.stop();
    cleanup();
  });

  it('--help lists the new commands', () => {
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
    for (const cmd of ['people suspend EMAIL', 'people reinstate EMAIL', 'qr revoke EMAIL']) expect(help).toContain(cmd);
  });

  it('qr revoke: the running gateway refuses the old token; a token issued after works', async () => {
    const old = lintel('qr', 'issue', 'ana@example.com').stdout.trim();
    expect(await read(scanner, old)).toMatchObject({ result: 'granted' });
    const revoked = lintel('qr', 'revoke', 'ana@example.com');
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/revoked member tokens of ana@example.com issued before/);
    await eventually(scanner, old, 'token_revoked');
    const fresh = lintel('qr', 'issue', 'ana@example.com').stdout.trim();
    expect(await read(scanner, fresh)).toMatchObject({ result: 'granted' });
    expect(await read(card, '1001')).toMatchObject({ result: 'granted' });
  });

  it('people suspend refuses cards and tokens; reinstate lets the card in again', async () => {
    const token = lintel('qr', 'issue', 'ana@example.com').stdout.trim();
    const suspended = lintel('people', 'suspend', 'Ana@Example.com');
    expect(suspended.status, suspended.stderr).toBe(0);
    expect(suspended.stdout).toContain('suspended ana@example.com');
    await eventually(card, '1001', 'person_suspended');
    expect((await read(scanner, token)).result).toBe('denied');
    const refused = lintel('qr', 'issue', 'ana@example.com');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/suspended/);
    expect(lintel('people', 'suspend', 'ana@example.com').stdout).toContain('already suspended');

    expect(lintel('people', 'reinstate', 'ana@example.com').status).toBe(0);
    await eventually(card, '1001', 'granted');
    expect((await read(scanner, token)).reason).toBe('token_revoked');
  });

  it('unknown people and bad usage exit 2 with the reason', () => {
    for (const args of [['people', 'suspend', 'nobody@example.com'], ['people', 'reinstate', 'nobody@example.com'], ['qr', 'revoke', 'nobody@example.com']]) {
      const res = lintel(...args);
      expect(res.status, args.join(' ')).toBe(2);
      expect(res.stderr.trim()).toBe('no person with that email');
    }
    expect(lintel('people', 'frobnicate', 'ana@example.com').status).toBe(2);
    expect(lintel('people', 'suspend').status).toBe(2);
    expect(lintel('people', 'suspend', 'not-an-email').status).toBe(2);
  });
});
