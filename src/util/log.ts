import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { systemClock } from './clock.js';
import { JournalDestination, stderrIsJournal } from './journal-log.js';

export type { Logger };

/** `json`: one JSON object a line, as always. `journal`: journal-log.ts. `auto`: journal when stderr is the journal, else json. */
export type LogFormat = 'auto' | 'json' | 'journal';

/**
 * Structured logs (pino: fast, one line per event) on stderr. Secrets never reach a log line:
 * known secret keys are redacted and card numbers are masked at the call site. Redaction runs
 * before the destination, so the journal format sees only redacted records.
 */
export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const stderr = destination ?? pino.destination({ fd: 2, sync: false });
  const journal = format === 'journal' || (format === 'auto' && destination === undefined && stderrIsJournal());
  const out: DestinationStream = journal ? new JournalDestination({ out: stderr, clock: systemClock }) : stderr;
  return pino(
    {
      level,
      base: undefined,
      // Top-level keys only: wildcard paths double the cost of every log line on the badge path,
      // and secrets are never nested into log objects in the first place.
      redact: { paths: ['token', 'password', 'secret', 'authorization'], censor: '[redacted]' },
    },
    out,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
