import { errorMessage } from './errors.js';
import type { Logger } from './log.js';

/**
 * Waits for one part's shutdown, but never longer than `ms`: a hung broker (an unacknowledged
 * offline status) or a worker that does not answer must not keep a stopping gateway, and with it
 * the store, open until systemd kills it. A real, referenced timer on purpose: the injected clock
 * may be a test's fake one, and an unreferenced timer would let Node exit half-way through stop.
 * Never throws; says what happened.
 */
export async function bounded(part: string, work: () => Promise<unknown> | unknown, ms: number, logger: Logger): Promise<'done' | 'timeout' | 'failed'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const outcome = await Promise.race([Promise.resolve().then(work).then(() => 'done' as const), timeout]);
    if (outcome === 'timeout') logger.warn({ part, ms }, 'stop timed out; going on without it');
    return outcome;
  } catch (err) {
    logger.warn({ part, err: errorMessage(err) }, 'stop failed; going on without it');
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}
