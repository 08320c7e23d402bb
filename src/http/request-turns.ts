import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/*
 * Why HTTP requests take turns. The event loop hands the gateway every socket that became
 * readable in one go, and each HTTP request's handler (token lookup, validation, a message to
 * the writer thread) runs to its first await inside that go: with eight API clients in flight,
 * a badge line that became readable behind them waited for all eight handlers, and its unlock
 * for them too. Started one per macrotask instead (setImmediate), the loop looks at its file
 * descriptors again between two handlers, so a reader's line waits for at most one. A request
 * is still parsed as its bytes arrive; only the start of its handler waits for its turn.
 * (/api/v1 no longer comes here: http/v1-forward.ts hands its requests to the API's thread.)
 */
export class RequestTurns {
  private readonly queue: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly logger: Logger) {}

  /** Runs `start` in a macrotask of its own, after the requests queued before it. */
  enter(start: () => void): void {
    this.queue.push(start);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  /** Requests waiting for their turn (for tests and status). */
  get waiting(): number {
    return this.queue.length;
  }

  private readonly turn = (): void => {
    const start = this.queue.shift();
    try {
      start?.();
    } catch (err) {
      // A handler that throws at its start is that request's failure, never the loop's.
      this.logger.error({ err: errorMessage(err) }, 'http request failed at its start');
    }
    if (this.queue.length > 0) setImmediate(this.turn);
    else this.scheduled = false;
  };
}
