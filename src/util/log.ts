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
      redact: {
        paths: ['token', 'password', 'secret', '*.token', '*.password', '*.secret', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
