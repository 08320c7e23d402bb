import { loadConfigFile } from '../config/load.js';
import { SchemaTooNewError } from '../store/upgrade.js';
import { runGuarded } from '../util/guarded.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

/** Longer than every part's stop bound together (test/parts/gateway-parts.test.ts), shorter than systemd's TimeoutStopSec (15 s). */
export const HARD_STOP_MS = 12_000;

/**
 * `lintel run`. Exit codes: 0 after a clean stop by signal, 1 when start fails or stop cannot
 * finish, 2 for an invalid config (main's handler), 3 for a database a newer build wrote. The
 * exit code is set before anything is awaited: a stop that waits on something nothing keeps
 * alive would otherwise let Node exit 0.
 */
export async function runGateway(file: string): Promise<void> {
  // Loaded here, not at the top: a one-shot command (cards import above all, whose peak memory
  // counts) does not carry the gateway's module graph (~25 MB).
  const { Gateway } = await import('../gateway.js');
  const gateway = new Gateway({ config: loadConfigFile(file) });
  const guard = { logger: gateway.logger, countFailure: (task: string) => gateway.metrics.backgroundErrors.inc({ task }) };
  // Whatever ends the process, SQLite is closed (synchronous, idempotent).
  process.on('exit', () => gateway.closeStore());
  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    process.exitCode = code;
    gateway.logger.info({ reason }, 'stopping');
    // The parts' stops are bounded; this bounds the rest. Referenced, so it also keeps Node alive.
    const deadline = setTimeout(() => {
      gateway.logger.error({ ms: HARD_STOP_MS }, 'stop did not finish in time; exiting');
      process.exit(EXIT.failure);
    }, HARD_STOP_MS);
    await gateway.stop().catch(() => (process.exitCode = EXIT.failure));
    clearTimeout(deadline);
    process.exit(process.exitCode);
  };
  // Signal handlers are guarded: nothing a reload or a stop throws may end the process unlogged.
  process.on('SIGTERM', () => void runGuarded('sigterm', () => stop('SIGTERM', EXIT.ok), guard));
  process.on('SIGINT', () => void runGuarded('sigint', () => stop('SIGINT', EXIT.ok), guard));
  process.on('SIGHUP', () => void runGuarded('sighup', () => gateway.reloadFile(file), guard));
  try {
    await gateway.start();
  } catch (err) {
    gateway.logger.fatal({ err: (err as Error).message }, 'start failed');
    // The way back from a downgrade is several lines an operator follows: printed as they are.
    if (err instanceof SchemaTooNewError) console.error(err.message);
    await stop('start failed', exitCodeFor(err) === EXIT.refused ? EXIT.refused : EXIT.failure);
  }
}
