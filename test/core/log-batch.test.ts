import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, inOneWrite, silentLogger, type LogFormat } from '../../src/util/log.js';

/** A logger on a destination that keeps each write it is given, as one string. */
function logged(format: LogFormat = 'json') {
  const writes: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('info', sink, format), writes };
}

describe('inOneWrite', () => {
  it('hands the lines logged inside it, by the logger and its children, to the destination as one write in their order', () => {
    const { logger, writes } = logged();
    const child = logger.child({ part: 'access' });
    inOneWrite(child, () => {
      child.info({ n: 1 }, 'first');
      logger.warn({ n: 2 }, 'second');
      child.info({ n: 3 }, 'third');
      expect(writes).toHaveLength(0);
    });
    expect(writes).toHaveLength(1);
    const lines = writes[0]!.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.msg, l.n, l.part])).toEqual([
      ['first', 1, 'access'],
      ['second', 2, undefined],
      ['third', 3, 'access'],
    ]);
  });

  it('writes as it goes outside it, and nested calls write once, when the outer one ends', () => {
    const { logger, writes } = logged();
    logger.info('alone');
    expect(writes).toHaveLength(1);
    inOneWrite(logger, () => {
      logger.info('a');
      inOneWrite(logger, () => logger.info('b'));
      expect(writes).toHaveLength(1);
      logger.info('c');
    });
    expect(writes).toHaveLength(2);
    expect(writes[1]!.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['a', 'b', 'c']);
  });

  it('writes what was logged before a throw, and the throw still reaches the caller', () => {
    const { logger, writes } = logged();
    expect(() =>
      inOneWrite(logger, () => {
        logger.error('before the failure');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(writes).toHaveLength(1);
    logger.info('after');
    expect(writes).toHaveLength(2);
  });

  it('holds the journal format lines too, each line as the journal format writes it', () => {
    const { logger, writes } = logged('journal');
    inOneWrite(logger, () => {
      logger.info({ reader: 'r1' }, 'decision');
      logger.error({ err: 'disk full' }, 'audit rows could not be written');
    });
    expect(writes).toEqual(['<6>decision reader=r1\n<3>audit rows could not be written err="disk full"\n']);
  });

  it('runs the function as it is for a logger not made by createLogger', () => {
    let ran = 0;
    inOneWrite(silentLogger, () => void ran++);
    expect(ran).toBe(1);
  });
});
