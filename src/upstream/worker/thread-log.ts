import type { Logger } from '../../util/log.js';

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * Re-emits one of the upstream thread's pino lines through the gateway's logger, so the site
 * has one log stream in one format (and tests' loggers see the thread's lines). The thread
 * filtered by level already; the line takes our time stamp (it arrives within a macrotask).
 */
export function relayThreadLog(logger: Logger, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    logger.warn({ line: line.slice(0, 200) }, 'unreadable log line from the upstream thread');
    return;
  }
  const { level, msg, time: _time, ...fields } = rec;
  const method = LEVELS[typeof level === 'number' ? level : 30] ?? 'info';
  logger[method](fields, typeof msg === 'string' ? msg : '');
}
