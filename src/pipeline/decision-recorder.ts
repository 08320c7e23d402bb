import type { AuditLog } from '../store/audit.js';
import type { Clock, Timer } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { Metrics } from '../metrics.js';
import type { DecisionEvent, RecentDecisions } from './recent-decisions.js';

export interface RecordedDecision extends DecisionEvent {
  personId: number | null;
}

export interface DecisionRecorderDeps {
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  recent: RecentDecisions;
}

/**
 * How long bookkeeping waits behind the unlock. The broker usually runs on the same small host
 * (two cores, shared with socat, the reader and the firmware link): an audit commit plus a log
 * line cost ~100 µs of CPU with cold caches, and done right after the publish they compete
 * with the broker forwarding that very unlock. 2 ms is past the broker's round trip on a
 * quiet host and far below anything a person at the door or an operator could notice.
 */
export const RECORD_DELAY_MS = 2;

/**
 * Everything that happens after a decision has been acted on: the audit row, the counter, the
 * status page's ring, observers and the log line. Decisions are queued and written together,
 * so a burst of reads (a queue at the turnstiles) costs one SQLite commit, not one per read.
 * The price is a window of RECORD_DELAY_MS in which a hard kill (power, SIGKILL) loses the
 * newest rows; stop() writes what is queued, so an orderly shutdown loses nothing.
 */
export class DecisionRecorder {
  private pending: RecordedDecision[] = [];
  private timer: Timer | null = null;
  private readonly listeners: Array<(e: DecisionEvent) => void> = [];

  constructor(private readonly deps: DecisionRecorderDeps) {}

  onDecision(listener: (e: DecisionEvent) => void): void {
    this.listeners.push(listener);
  }

  record(decision: RecordedDecision): void {
    this.pending.push(decision);
    this.timer ??= this.deps.clock.setTimeout(() => this.flush(), RECORD_DELAY_MS);
  }

  /** Writes everything queued now (also called on shutdown). */
  flush(): void {
    this.timer?.cancel();
    this.timer = null;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const { audit, metrics, logger, recent } = this.deps;
    try {
      audit.appendMany(batch);
    } catch (err) {
      // The journal below still carries every decision; the process stays up and keeps deciding.
      logger.error({ err: errorMessage(err), rows: batch.length }, 'audit rows could not be written');
    }
    for (const d of batch) {
      if (d.relay === 'unreachable') metrics.relayUnreachable.inc();
      metrics.decisions.inc({ result: d.result, reason: d.reason });
      const event: DecisionEvent = {
        at: d.at,
        readerId: d.readerId,
        doorId: d.doorId,
        credential: d.credential,
        kind: d.kind,
        result: d.result,
        reason: d.reason,
        relay: d.relay,
      };
      recent.push(event);
      for (const l of this.listeners) l(event);
      logger.info(
        { reader: d.readerId, door: d.doorId, credential: d.credential, kind: d.kind, result: d.result, reason: d.reason, relay: d.relay },
        'decision',
      );
    }
  }
}
