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
/**
 * Largest write sonic-boom gathers while one is in flight. It appends each line to its last
 * pending string and measures it with Buffer.byteLength, which flattens the whole string again:
 * with the default 16 KiB, a line logged behind a slow write cost ~10 KiB of young-generation
 * garbage instead of ~2 (measured with 30,000 decision lines; bench/hardening.ts (c) logs 500 a
 * second). At 1 KiB a backlog drains in more, smaller writes, which the journal does not mind.
 */
const LOG_WRITE_BYTES = 1024;

export function createLogger(level: LevelWithSilent = 'info', destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const stderr = destination ?? pino.destination({ fd: 2, sync: false, maxWrite: LOG_WRITE_BYTES });
  // Innermost, so what the journal format makes of a held batch is held too.
  const batch = new LineBatch(stderr);
  const journal = format === 'journal' || (format === 'auto' && destination === undefined && stderrIsJournal());
  const out: DestinationStream = journal ? new JournalDestination({ out: batch, clock: systemClock }) : batch;
  batches.set(out, batch);
  const family = new Set<WeakRef<Logger>>();
  const root = pino(
    {
      level,
      base: undefined,
      // Top-level keys only: wildcard paths double the cost of every log line on the badge path,
      // and secrets are never nested into log objects in the first place.
      redact: { paths: ['token', 'password', 'secret', 'authorization'], censor: '[redacted]' },
      // Children keep the level they were made with; the family lets a reload reach them all.
      onChild: (child) => void family.add(new WeakRef(child)),
    },
    out,
  );
  families.set(root, family);
  return root;
}

const families = new WeakMap<Logger, Set<WeakRef<Logger>>>();
/** A logger's destination (pino's stream, shared by its children) → the batch in front of its output. */
const batches = new WeakMap<object, LineBatch>();

/**
 * Holds the lines written while a burst is being logged and hands them on as one write. Each
 * line given to sonic-boom while no write is in flight starts a write of its own (a pool round
 * trip: the main thread's hand-off, a wake-up when it is done); a burst of decisions logged one
 * by one started one for its first line and one more for the rest. Nothing is held past the
 * synchronous task that asked (inOneWrite), so a hard kill loses no more than before.
 */
class LineBatch implements DestinationStream {
  private held: string | null = null;
  private depth = 0;

  constructor(private readonly out: DestinationStream) {}

  write(line: string): void {
    if (this.held === null) this.out.write(line);
    else this.held += line;
  }

  hold(): void {
    if (this.depth++ === 0) this.held = '';
  }

  release(): void {
    if (--this.depth > 0) return;
    const lines = this.held;
    this.held = null;
    if (lines) this.out.write(lines);
  }

  /** pino's logger.flush() reaches the destination through here. */
  flush(cb?: (err?: Error) => void): void {
    const out = this.out as DestinationStream & { flush?: (cb?: (err?: Error) => void) => void };
    if (out.flush) out.flush(cb);
    else cb?.();
  }
}

/**
 * Runs `fn` with the lines it logs (through `logger` or any logger of its family) written
 * together when it returns, in the order logged. A logger not made by createLogger writes as
 * it goes.
 */
export function inOneWrite(logger: Logger, fn: () => void): void {
  const stream = (logger as unknown as Record<symbol, object | undefined>)[pino.symbols.streamSym];
  const batch = stream === undefined ? undefined : batches.get(stream);
  if (batch === undefined) return fn();
  batch.hold();
  try {
    fn();
  } finally {
    batch.release();
  }
}

/**
 * A reload's new log level, for the root and every child the parts hold (pino copies the level
 * into a child when it is made). A logger not made by createLogger changes alone.
 */
export function setLogLevel(root: Logger, level: LevelWithSilent): void {
  root.level = level;
  const family = families.get(root);
  if (!family) return;
  for (const ref of family) {
    const child = ref.deref();
    if (child) child.level = level;
    else family.delete(ref);
  }
}

export const silentLogger: Logger = pino({ level: 'silent' });
