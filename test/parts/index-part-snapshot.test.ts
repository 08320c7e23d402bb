import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decideCard } from '../../src/access/decide.js';
import { parseConfig } from '../../src/config/load.js';
import { sitePaths } from '../../src/config/site-paths.js';
import { Metrics } from '../../src/metrics.js';
import { AccessPart } from '../../src/parts/access-part.js';
import { IndexPart } from '../../src/parts/index-part.js';
import { PartRunner } from '../../src/parts/part-runner.js';
import { StorePart } from '../../src/parts/store-part.js';
import { importCards } from '../../src/store/card-import.js';
import { readChangeMark } from '../../src/store/change-log.js';
import { openDatabase } from '../../src/store/db.js';
import { Store } from '../../src/store/store.js';
import { systemClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The index part stopped before the change watcher (background part) was wired to it: a
 * SIGTERM right after the gateway first answered healthy. Its snapshot is still written, at
 * the change-log position of its load, and the next start restores it and catches up with
 * what another process committed in between.
 */

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const NOW = Date.now();

/** The parts up to the index, as gateway-parts.ts lists them, on a real database file; the log lines kept. */
function gatewayUpToIndex(dataDir: string) {
  const lines: { msg: string; caughtUp?: number }[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) });
  const config = parseConfig({ site: { id: 'early-stop' }, dataDir, doors: [{ id: 'front' }] });
  const store = new StorePart();
  const access = new AccessPart();
  const index = new IndexPart(store, access);
  const runner = new PartRunner([store, access, index], { config: () => config, logger, clock: systemClock, metrics: new Metrics(), stopping: () => false });
  return { config, store, index, runner, lines };
}

describe('index part: the snapshot at a stop before the change watcher started', () => {
  it('is written at the load mark, claims nothing unapplied, and the next start restores it and catches up', async () => {
    const { dir, cleanup } = tempDir('lintel-early-stop-');
    cleanups.push(cleanup);
    const dataDir = join(dir, 'data');
    const first = gatewayUpToIndex(dataDir);
    await first.runner.startAll();
    const own = first.store.store;
    importCards(own, 'email,card,doors\nana@example.com,1001,front', NOW); // own commit: in the index at once
    expect(decideCard(first.index.index, '1001', 'front', NOW).result).toBe('granted');
    const loadSeq = first.index.changeMark.seq;
    // Another process commits; no watcher runs to apply it, so the index lacks it.
    const other = new Store(openDatabase(sitePaths(first.config).database), first.store.site.subjects);
    cleanups.push(() => other.close());
    importCards(other, 'email,card,doors\nbo@example.com,2002,front', NOW);
    const otherSeq = readChangeMark(other.db).seq;
    expect(otherSeq).toBeGreaterThan(loadSeq);
    expect(decideCard(first.index.index, '2002', 'front', NOW).result).toBe('denied');
    await first.runner.stopAll();

    expect(existsSync(sitePaths(first.config).indexSnapshot)).toBe(true);
    const row = other.db.prepare('SELECT seq FROM index_snapshot WHERE id = 1').get() as { seq: number };
    expect(row.seq).toBeLessThan(otherSeq); // Bo's commit is after the position the file claims

    const second = gatewayUpToIndex(dataDir);
    await second.runner.startAll();
    cleanups.push(() => void second.runner.stopAll());
    const restored = second.lines.find((l) => l.msg === 'index restored from the snapshot of the last stop');
    expect(restored?.caughtUp).toBeGreaterThanOrEqual(1); // Bo, from the change log after the snapshot
    for (const card of ['1001', '2002']) expect(decideCard(second.index.index, card, 'front', NOW).result).toBe('granted');
  });
});
