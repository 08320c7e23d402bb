import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FailureGuard } from '../../src/access/failure-guard.js';
import { createLogger } from '../../src/util/log.js';

const CFG = { maxFailures: 3, windowSec: 60, lockoutSec: 120 };
const S = 1000;

function logCapture() {
  const lines: string[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) });
  return { lines, logger: createLogger('warn', sink) };
}

describe('FailureGuard', () => {
  it('locks a reader after maxFailures within the window, for lockoutSec, warning once', () => {
    const { lines, logger } = logCapture();
    const g = new FailureGuard(CFG, logger);
    g.recordFailure('r1', 0);
    g.recordFailure('r1', 10 * S);
    expect(g.check('r1', 10 * S)).toBe(true);
    g.recordFailure('r1', 20 * S);
    expect(g.check('r1', 20 * S)).toBe(false);
    expect(g.check('r2', 20 * S)).toBe(true); // per reader
    g.recordFailure('r1', 30 * S); // failures during a lockout neither extend it nor warn again
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('reader locked');
    expect(g.check('r1', 140 * S - 1)).toBe(false);
    expect(g.check('r1', 140 * S)).toBe(true);
    g.recordFailure('r1', 141 * S); // a fresh count after the lockout
    expect(g.check('r1', 141 * S)).toBe(true);
  });

  it('only counts failures inside the sliding window', () => {
    const g = new FailureGuard(CFG);
    g.recordFailure('r1', 0);
    g.recordFailure('r1', 30 * S);
    g.recordFailure('r1', 60 * S); // the first one left the window (exclusive edge)
    expect(g.check('r1', 60 * S)).toBe(true);
    g.recordFailure('r1', 61 * S);
    expect(g.check('r1', 61 * S)).toBe(false);
  });

  it('a granted read clears the count but not an active lockout', () => {
    const g = new FailureGuard(CFG);
    g.recordFailure('r1', 0);
    g.recordFailure('r1', S);
    g.recordSuccess('r1', 2 * S);
    g.recordFailure('r1', 3 * S);
    g.recordFailure('r1', 4 * S);
    expect(g.check('r1', 4 * S)).toBe(true);
    g.recordFailure('r1', 5 * S);
    expect(g.check('r1', 5 * S)).toBe(false);
    g.recordSuccess('r1', 6 * S);
    expect(g.check('r1', 6 * S)).toBe(false);
  });

  it('keeps memory bounded: idle readers are dropped', () => {
    const g = new FailureGuard(CFG);
    for (let i = 0; i < 10_000; i++) g.recordFailure(`reader-${i}`, i * 100 * S);
    expect(g.trackedReaders()).toBeLessThanOrEqual(257);
    g.sweep(10_000 * 100 * S + 61 * S);
    expect(g.trackedReaders()).toBe(0);
  });
});
