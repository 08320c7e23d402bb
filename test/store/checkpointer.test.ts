import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { startCheckpointer } from '../../src/store/checkpointer.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/* stop() is on the SIGTERM path: it must return whatever state the worker is in. A hang shows as a test timeout. */
describe('checkpointer.stop()', () => {
  it('returns when the worker already died (its exit event is long gone)', async () => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'lintel.db'));
    // The worker cannot open a file under a directory that does not exist: it dies at once.
    const cp = startCheckpointer(db, join(t.dir, 'missing', 'lintel.db'), silentLogger, 50);
    await new Promise((r) => setTimeout(r, 300));
    await cp.stop();
    db.close();
    t.cleanup();
  });

  it('terminates a worker that does not answer the stop message', async () => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'lintel.db'));
    const cp = startCheckpointer(db, join(t.dir, 'lintel.db'), silentLogger, 50, {
      stopGraceMs: 200,
      workerSource: "require('node:worker_threads').parentPort.on('message', () => { for (;;) {} });",
    });
    expect(await cp.stop()).toBe('terminated');
    expect(await cp.stop()).toBe('terminated'); // idempotent
    db.close();
    t.cleanup();
  });

  it('a healthy worker stops on request', async () => {
    const t = tempDir();
    const db = openDatabase(join(t.dir, 'lintel.db'));
    const cp = startCheckpointer(db, join(t.dir, 'lintel.db'), silentLogger, 50);
    expect(await cp.stop()).toBe('stopped');
    db.close();
    t.cleanup();
  });
});
