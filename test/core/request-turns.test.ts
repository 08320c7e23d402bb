import { describe, expect, it } from 'vitest';
import { RequestTurns } from '../../src/http/request-turns.js';
import { createLogger } from '../../src/util/log.js';
import { Writable } from 'node:stream';

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', out), lines };
}

describe('HTTP requests take turns, one handler start per macrotask', () => {
  it('other work of the loop runs between two queued requests', async () => {
    const turns = new RequestTurns(capturingLogger().logger);
    const order: string[] = [];
    // Stands for a reader's line: work the loop picks up whenever it gets control back.
    let probing = true;
    const probe = () => {
      order.push('loop');
      if (probing) setImmediate(probe);
    };
    setImmediate(probe);
    const done = new Promise<void>((resolve) => {
      for (let i = 1; i <= 3; i++) turns.enter(() => {
        order.push(`request ${i}`);
        if (i === 3) resolve();
      });
    });
    expect(turns.waiting).toBe(3);
    await done;
    probing = false;
    const requests = order.filter((o) => o !== 'loop');
    expect(requests).toEqual(['request 1', 'request 2', 'request 3']); // in arrival order
    // Never two request starts back to back: the loop ran in between each time.
    for (let i = 1; i < order.length; i++) {
      if (order[i]!.startsWith('request')) expect(order[i - 1]).toBe('loop');
    }
    expect(turns.waiting).toBe(0);
  });

  it('a handler that throws at its start fails only its request: it is logged and the next one still runs', async () => {
    const { logger, lines } = capturingLogger();
    const turns = new RequestTurns(logger);
    const ran: number[] = [];
    await new Promise<void>((resolve) => {
      turns.enter(() => {
        throw new Error('boom');
      });
      turns.enter(() => {
        ran.push(2);
        resolve();
      });
    });
    expect(ran).toEqual([2]);
    await new Promise((r) => setImmediate(r));
    expect(lines.some((l) => l.msg === 'http request failed at its start' && l.err === 'boom')).toBe(true);
  });
});
