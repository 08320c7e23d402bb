import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Structured JSON logs (pino: fast, one line per event, journald-friendly). Secrets never reach
 * a log line: known secret keys are redacted and card numbers are masked at the call site.
 */
export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      // Top-level keys only: wildcard paths double the cost of every log line on the badge path,
      // and secrets are never nested into log objects in the first place.
      redact: { paths: ['token', 'password', 'secret', 'authorization'], censor: '[redacted]' },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
