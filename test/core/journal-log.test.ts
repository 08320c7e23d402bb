import { describe, expect, it } from 'vitest';
import { formatJournalLine, JournalDestination, syslogPriority } from '../../src/util/journal-log.js';
import { createLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';

/* Journal lines: the priority prefix journalctl -p filters on, the message first, the fields kept; and the throttle, on an injected clock. */

function capture() {
  const lines: string[] = [];
  return { lines, out: { write: (s: string) => void lines.push(...s.split('\n').filter((l) => l !== '')) } };
}

describe('journal log lines', () => {
  it('maps pino levels to syslog priorities (err 3, warning 4, info 6, debug 7)', () => {
    expect([60, 50, 40, 30, 20, 10].map(syslogPriority)).toEqual([2, 3, 4, 6, 7, 7]);
  });

  it('puts the message first and keeps every field, quoting only what needs it, on one line', () => {
    const line = formatJournalLine({ level: 50, time: 1, msg: 'mqtt error', part: 'doors', broker: 'mqtt://b:1883', err: 'connect ECONNREFUSED 10.0.0.2:1883', attempt: 3, ok: false, ids: [1, 2] });
    expect(line).toBe('<3>mqtt error part=doors broker=mqtt://b:1883 err="connect ECONNREFUSED 10.0.0.2:1883" attempt=3 ok=false ids=[1,2]');
    expect(formatJournalLine({ level: 30, msg: 'two\nlines', note: 'a\nb' })).toBe('<6>two ⏎ lines note="a\\nb"');
  });

  it('goes through pino with redaction applied first', () => {
    const c = capture();
    const logger = createLogger('debug', c.out as never, 'journal');
    logger.child({ part: 'upstream' }).warn({ token: 'hunter2', status: 503 }, 'reconcile failed');
    logger.debug('detail');
    expect(c.lines).toEqual(['<4>reconcile failed part=upstream token=[redacted] status=503', '<7>detail']);
  });

  it('json stays the default when no format is asked for', () => {
    const c = capture();
    createLogger('info', c.out as never).info({ a: 1 }, 'hello');
    expect(JSON.parse(c.lines[0]!)).toMatchObject({ level: 30, msg: 'hello', a: 1 });
  });
});

describe('throttling repeated warnings', () => {
  function setup() {
    const clock = new FakeClock();
    const c = capture();
    const dest = new JournalDestination({ out: c.out, clock });
    const log = (level: number, msg: string, extra: Record<string, unknown> = {}) => dest.write(`${JSON.stringify({ level, time: clock.now(), msg, ...extra })}\n`);
    return { clock, lines: c.lines, log, dest };
  }

  it('lets the same message through 3 times per 10 s, then says how many it suppressed when the window ends', () => {
    const { clock, lines, log } = setup();
    // A broker down, reported twice a second for 10 s: 20 lines.
    for (let i = 0; i < 20; i++) {
      log(40, 'mqtt connection lost', { part: 'doors', broker: 'b' });
      clock.advance(500);
    }
    expect(lines).toEqual([
      '<4>mqtt connection lost part=doors broker=b',
      '<4>mqtt connection lost part=doors broker=b',
      '<4>mqtt connection lost part=doors broker=b',
      '<4>mqtt connection lost: suppressed 17 similar in the last 10 s part=doors',
    ]);
    // The next window starts afresh.
    log(40, 'mqtt connection lost', { part: 'doors', broker: 'b' });
    expect(lines).toHaveLength(5);
    clock.advance(10_000);
    expect(lines).toHaveLength(5); // nothing suppressed, no summary
  });

  it('keys by level, part and message; info and fatal lines are never throttled', () => {
    const { clock, lines, log } = setup();
    for (let i = 0; i < 5; i++) {
      log(40, 'mqtt error', { part: 'doors', err: `e${i}` }); // different details are still "similar"
      log(40, 'mqtt error', { part: 'upstream' });
      log(30, 'badge');
      log(60, 'start failed');
    }
    expect(lines.filter((l) => l.startsWith('<4>mqtt error part=doors'))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('<4>mqtt error part=upstream'))).toHaveLength(3);
    expect(lines.filter((l) => l === '<6>badge')).toHaveLength(5);
    expect(lines.filter((l) => l === '<2>start failed')).toHaveLength(5);
    clock.advance(10_000);
    expect(lines.filter((l) => l.includes('suppressed 2 similar'))).toHaveLength(2);
  });

  it('flush writes the summaries of windows still open', () => {
    const { lines, log, dest, clock } = setup();
    for (let i = 0; i < 4; i++) log(50, 'store write failed');
    dest.flush();
    expect(lines.at(-1)).toBe('<3>store write failed: suppressed 1 similar in the last 10 s');
    expect(clock.pending()).toBe(0);
  });
});
