import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { openDatabase } from '../../src/store/db.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/* The card guard, the flood collapser and the alarm, wired by the composition root. */

const reader = { id: 'desk', kind: 'stdin', door: 'front', payload: 'card', cardFormat: 'decimal', maxLineLength: 256, direction: 'in' } as const;

describe('gateway: card guessing', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a guessing reader is locked, shown as an alarm, and its flood is written as counted rows', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dataDir = join(t.dir, 'data');
    const gateway = new Gateway({
      config: parseConfig({ site: { id: 'gw' }, dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { url: 'embedded', embeddedPort: 0 }, doors: [{ id: 'front' }], readers: [reader] }),
      logger: silentLogger,
      stdin: new PassThrough(),
    });
    await gateway.start();
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : gateway.stop()));
    for (let i = 0; i < 2000; i++) gateway.pipeline.onLine(reader, String(500_000 + i));
    const base = `http://127.0.0.1:${gateway.address()!.port}`;
    const status = (await (await fetch(`${base}/api/status`)).json()) as { alarms: Array<{ kind: string; readerId: string }> };
    expect(status.alarms).toEqual([expect.objectContaining({ kind: 'reader_locked', readerId: 'desk' })]);
    expect(await (await fetch(`${base}/`)).text()).toContain('Alarms');
    await gateway.stop();
    stopped = true;
    const db = openDatabase(join(dataDir, 'lintel.db'));
    cleanups.push(() => void db.close());
    const rows = db.prepare('SELECT reason, count FROM audit').all() as Array<{ reason: string; count: number }>;
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(2000);
    expect(rows.filter((r) => r.reason === 'unknown_credential')).toHaveLength(10);
    expect(rows.length).toBeLessThan(100);
  });
});
