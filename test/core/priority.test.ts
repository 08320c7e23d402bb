import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_NICE } from '../../src/util/priority.js';

/*
 * lowerOwnPriority relies on Linux's per-thread nice value: a worker that lowers its own leaves
 * the thread that created it (the badge path's) as it was, and threads it creates inherit it.
 */

/** Field 19 of /proc/thread-self/stat (after the parenthesised name) is the nice value. */
const NICE_OF_SELF = `(p) => Number(require('node:fs').readFileSync(p, 'utf8').split(') ')[1].split(' ')[16])`;

const built = new URL('../../dist/src/util/priority.js', import.meta.url).href;

function runWorker<T = { own: number; child: number }>(source: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(`(async () => { ${source} })().catch((e) => { throw e; });`, { eval: true });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe.runIf(process.platform === 'linux')('lowerOwnPriority', () => {
  it('lowers the calling thread only; a thread it starts afterwards inherits it', async () => {
    const selfNice = () => Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')[16]);
    const before = selfNice();
    // A worker runs the build (npm test builds first), so it calls the real lowerOwnPriority.
    const result = await runWorker(`
      const { parentPort, Worker } = require('node:worker_threads');
      const nice = ${NICE_OF_SELF};
      const refused = await import('${built}').then((m) => m.lowerOwnPriority());
      if (refused !== null) throw new Error(refused);
      const own = nice('/proc/thread-self/stat');
      const g = new Worker("require('node:worker_threads').parentPort.postMessage((${NICE_OF_SELF})('/proc/thread-self/stat'))", { eval: true });
      g.once('message', (child) => parentPort.postMessage({ own, child }));
    `);
    const lowered = Math.min(19, before + BACKGROUND_NICE);
    expect(result).toEqual({ own: lowered, child: lowered });
    expect(selfNice()).toBe(before);
  });

  it('keeps its gap below a process that already runs nicer (or at nice 19 at most)', async () => {
    const result = await runWorker<{ first: number; second: number }>(`
      const { parentPort } = require('node:worker_threads');
      const { setPriority } = require('node:os');
      const nice = ${NICE_OF_SELF};
      const { lowerOwnPriority } = await import('${built}');
      setPriority(0, 5);
      lowerOwnPriority();
      const from5 = nice('/proc/thread-self/stat');
      lowerOwnPriority();
      parentPort.postMessage({ first: from5, second: nice('/proc/thread-self/stat') });
    `);
    expect(result).toEqual({ first: 5 + BACKGROUND_NICE, second: 19 });
  });
});
