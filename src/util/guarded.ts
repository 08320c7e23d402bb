import type { Clock, Timer } from './clock.js';
import { backoffMs } from './clock.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';

/**
 * Where a background failure is counted (the gateway wires it to the
 * `lintel_background_errors_total{task}` counter). Kept as a port so that util/ imports no metrics.
 */
export type FailureCounter = (task: string) => void;

export interface GuardDeps {
  logger: Logger;
  countFailure?: FailureCounter;
}

/**
 * Runs `fn` and never lets it throw or reject past here: the failure is logged once per call
 * with its task name and counted. For listeners and callbacks whose caller (an EventEmitter,
 * a timer, a signal) would otherwise turn an exception into a dead process.
 * Returns true when `fn` completed (for a promise: when it resolved).
 */
export function runGuarded(task: string, fn: () => void | Promise<void>, deps: GuardDeps): Promise<boolean> {
  const fail = (err: unknown): false => {
    deps.countFailure?.(task);
    deps.logger.error({ task, err: errorMessage(err) }, `${task} failed`);
    return false;
  };
  try {
    const out = fn();
    if (out instanceof Promise) return out.then(() => true, fail);
    return Promise.resolve(true);
  } catch (err) {
    return Promise.resolve(fail(err));
  }
}

export interface GuardedIntervalOptions extends GuardDeps {
  clock: Clock;
  everyMs: number;
  /** First retry after a failure; doubles up to `everyMs`. Default 1 s. */
  retryBaseMs?: number;
}

/**
 * A periodic background task that cannot take the process down: each run is guarded
 * (logged with its task name and counted), a failed run is retried with backoff well before the next period (an hourly
 * housekeeping run that met SQLITE_BUSY must not wait an hour), and runs never overlap: a
 * slow async run delays the next one instead of stacking up behind it.
 */
export function guardedInterval(task: string, fn: () => void | Promise<void>, opts: GuardedIntervalOptions): Timer {
  let timer: Timer | null = null;
  let cancelled = false;
  let failures = 0;
  const schedule = (ms: number) => {
    if (!cancelled) timer = opts.clock.setTimeout(tick, ms);
  };
  const done = (ok: boolean) => {
    if (ok) {
      failures = 0;
      schedule(opts.everyMs);
    } else {
      schedule(Math.min(opts.everyMs, backoffMs(failures++, opts.retryBaseMs ?? 1000, opts.everyMs)));
    }
  };
  const fail = (err: unknown) => {
    opts.countFailure?.(task);
    opts.logger.error({ task, err: errorMessage(err) }, `${task} failed; retrying`);
    done(false);
  };
  // A synchronous run reschedules synchronously, so fake clocks need no microtask flushing.
  const tick = () => {
    timer = null;
    try {
      const out = fn();
      if (out instanceof Promise) out.then(() => done(true), fail);
      else done(true);
    } catch (err) {
      fail(err);
    }
  };
  schedule(opts.everyMs);
  return {
    cancel() {
      cancelled = true;
      timer?.cancel();
      timer = null;
    },
  };
}
