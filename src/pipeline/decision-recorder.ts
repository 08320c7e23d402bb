import type { GrantSource } from '../access/grant-source.js';
import type { PolicyEvent } from '../access/types.js';
import type { AuditEntry, AuditLog } from '../store/audit.js';
import { isSqliteRetryable } from '../store/sqlite-busy.js';
import { backoffMs, type Clock, type Timer } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { inOneWrite, type Logger } from '../util/log.js';
import type { Metrics } from '../metrics.js';
import type { DecisionEvent, RecentDecisions } from './recent-decisions.js';

export interface RecordedDecision extends DecisionEvent {
  personId: number | null;
  /** Which source's window granted (decision core); absent for denials and visitors. */
  source?: GrantSource | null;
  /** Something a rule noticed without changing the result (a soft anti-passback violation). */
  event?: PolicyEvent | null;
  /** Identical denials this row stands for (src/pipeline/flood-collapse.ts); 1 when absent. */
  count?: number;
  /**
   * High-resolution marks (ms, BadgePipeline's hrNow) of the read, its decision and its unlock
   * handed to the socket (null: nothing sent). Taken on the badge path, observed as histograms
   * only in flushPending, after the unlock; absent on rows made elsewhere.
   */
  readMark?: number;
  decidedMark?: number;
  publishedMark?: number | null;
}

/** A decision, after it was acted on; `personId` is local (never send it out of the process). */
export type DecisionListener = (e: DecisionEvent, personId: number | null) => void;

export interface DecisionRecorderDeps {
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  recent: RecentDecisions;
  /** Audit rows kept in memory while another process holds the write lock (default 100,000). */
  maxQueuedRows?: number;
}

/** ~100 bytes a row: 100,000 rows is ~10 MB, minutes of a busy site behind a held lock. */
export const DEFAULT_MAX_QUEUED_AUDIT_ROWS = 100_000;
/** Rows per commit when draining the queue: a long backlog must not hold the loop in one commit. */
export const AUDIT_DRAIN_CHUNK = 2_000;
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2_000;
/**
 * Failed attempts (50 + 100 ms of backoff) before a held lock is worth a warning. The upstream
 * thread's own write transactions hold the lock for a few milliseconds many times a second
 * under load; one retry 50 ms later gets through, and a warning for each was pure noise.
 */
const WARN_AFTER_ATTEMPTS = 3;

/**
 * How long bookkeeping waits behind the unlock. The broker usually runs on the same small host
 * (two cores, shared with socat, the reader and the firmware link): an audit commit plus a log
 * line cost ~100 µs of CPU with cold caches, and done right after the publish they compete
 * with the broker forwarding that very unlock. 2 ms is past the broker's round trip on a
 * quiet host and far below anything a person at the door or an operator could notice.
 */
export const RECORD_DELAY_MS = 2;

/** The fields of a `decision` log line; `source` and `event` are left out of the line while undefined (pino skips them). */
interface DecisionLine {
  reader: string;
  door: string;
  credential: string;
  kind: DecisionEvent['kind'];
  result: DecisionEvent['result'];
  reason: string;
  relay: DecisionEvent['relay'];
  source: GrantSource | undefined;
  event: PolicyEvent | undefined;
}

/**
 * Everything that happens after a decision has been acted on: the audit row, the counter, the
 * status page's ring, observers and the log line. Decisions are queued and written together,
 * so a burst of reads (a queue at the turnstiles) costs one SQLite commit, not one per read.
 * The price is a window of RECORD_DELAY_MS in which a hard kill (power, SIGKILL) loses the
 * newest rows; stop() writes what is queued, so an orderly shutdown loses nothing.
 */
export class DecisionRecorder {
  private pending: RecordedDecision[] = [];
  private lastWriteError: string | null = null;
  private timer: Timer | null = null;
  private readonly listeners: Array<DecisionListener> = [];
  /**
   * Audit rows not yet committed, oldest first. The main connection never waits for a lock
   * (db.ts), so while a backup script or `sqlite3` holds it the rows wait here, bounded, and a
   * retry with backoff writes them when it frees. Only the rows beyond the cap are lost, and
   * counted (lintel_audit_rows_dropped_total).
   */
  private auditQueue: AuditEntry[] = [];
  private readonly maxQueued: number;
  private retryTimer: Timer | null = null;
  private busyAttempts = 0;
  private droppedThisOutage = 0;
  /**
   * Every decision's log line is this one object, refilled: pino serialises it before info()
   * returns and keeps nothing of it, so a line costs its text, not an object and a copy.
   */
  private readonly line: DecisionLine = { reader: '', door: '', credential: '', kind: 'card', result: 'denied', reason: '', relay: 'none', source: undefined, event: undefined };

  constructor(private readonly deps: DecisionRecorderDeps) {
    this.maxQueued = deps.maxQueuedRows ?? DEFAULT_MAX_QUEUED_AUDIT_ROWS;
    deps.metrics.gauge('lintel_audit_rows_queued', 'Audit rows waiting in memory for the SQLite write lock', () => this.auditQueue.length);
  }

  /** For the status page: rows waiting in memory and why, so a held lock or a full disk shows as a fault. */
  auditBacklog(): { queued: number; lastError: string | null } {
    return { queued: this.auditQueue.length, lastError: this.lastWriteError };
  }

  /**
   * Observers (the console's live page, the MQTT event stream, the demo). Each is called after
   * the unlock, with the local person id beside the event for in-process lookups (a name on the
   * page); the id must not leave the process. A listener that throws is logged and counted,
   * never allowed to cost the audit row or the next observer.
   */
  onDecision(listener: DecisionListener): void {
    this.listeners.push(listener);
  }

  record(decision: RecordedDecision): void {
    this.pending.push(decision);
    this.timer ??= this.deps.clock.setTimeout(() => this.flushPending(), RECORD_DELAY_MS);
  }

  /**
   * Writes everything queued now (shutdown): also tries the rows waiting for a lock at once
   * instead of at their next retry, and says how many could not be written before close.
   */
  flush(): void {
    this.flushPending();
    if (this.retryTimer === null) return;
    this.retryTimer.cancel();
    this.writeAudit();
    if (this.auditQueue.length > 0) this.deps.logger.error({ rows: this.auditQueue.length }, 'audit rows still waiting for the database lock at shutdown');
  }

  private flushPending(): void {
    this.timer?.cancel();
    this.timer = null;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    // The batch's log lines (and any error it logs) leave in one write when it is done.
    inOneWrite(this.deps.logger, () => {
      this.enqueueAudit(batch);
      if (this.retryTimer === null) this.writeAudit();
      for (const d of batch) this.tellEveryone(d);
    });
  }

  /** Counters, histograms, the status ring, the observers and the log line of one decision. */
  private tellEveryone(d: RecordedDecision): void {
    const { metrics, logger, recent } = this.deps;
    if (d.relay === 'unreachable') metrics.relayUnreachable.inc();
    // Reads, not rows: a collapsed row counts every denial it stands for.
    metrics.decisions.inc({ result: d.result, reason: d.reason }, d.count ?? 1);
    if (d.readMark !== undefined) observeLatency(metrics, d, d.readMark);
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
    // Only when it has one, so a denial's event is exactly what it was.
    if (d.source != null) event.source = d.source;
    recent.push(event, d.personId);
    for (const l of this.listeners) this.tell(l, event, d.personId);
    const line = this.line;
    line.reader = d.readerId;
    line.door = d.doorId;
    line.credential = d.credential;
    line.kind = d.kind;
    line.result = d.result;
    line.reason = d.reason;
    line.relay = d.relay;
    // Only the decisions that have them carry source and event, so every other line stays as it was.
    line.source = d.source ?? undefined;
    line.event = d.event ?? undefined;
    logger.info(line, 'decision');
  }

  private tell(listener: DecisionListener, event: DecisionEvent, personId: number | null): void {
    try {
      listener(event, personId);
    } catch (err) {
      this.deps.metrics.backgroundErrors.inc({ task: 'decision-listener' });
      this.deps.logger.error({ err: errorMessage(err) }, 'a decision listener failed');
    }
  }

  private enqueueAudit(batch: readonly RecordedDecision[]): void {
    const room = this.maxQueued - this.auditQueue.length;
    const fit = Math.min(room, batch.length);
    for (let i = 0; i < fit; i++) this.auditQueue.push(batch[i]!);
    const dropped = batch.length - fit;
    if (dropped === 0) return;
    this.deps.metrics.auditDropped.inc(dropped);
    // One line when dropping starts; the total is reported when the lock frees.
    if (this.droppedThisOutage === 0) this.deps.logger.error({ queued: this.auditQueue.length, cap: this.maxQueued }, 'audit queue full; dropping rows until the database lock frees');
    this.droppedThisOutage += dropped;
  }

  /** Commits the queue in chunks; a retryable error (lock, full disk, read-only) keeps the rows and retries, any other drops the chunk. */
  private writeAudit(): void {
    this.retryTimer = null;
    const { audit, logger, clock } = this.deps;
    while (this.auditQueue.length > 0) {
      const chunk = this.auditQueue.length <= AUDIT_DRAIN_CHUNK ? this.auditQueue : this.auditQueue.slice(0, AUDIT_DRAIN_CHUNK);
      try {
        audit.appendMany(chunk);
      } catch (err) {
        if (isSqliteRetryable(err)) {
          this.lastWriteError = errorMessage(err);
          if (++this.busyAttempts === WARN_AFTER_ATTEMPTS) logger.warn({ queued: this.auditQueue.length, err: this.lastWriteError }, 'audit rows cannot be written now (lock held elsewhere, disk full or read-only); queued in memory');
          this.retryTimer = clock.setTimeout(() => this.writeAudit(), backoffMs(this.busyAttempts - 1, RETRY_BASE_MS, RETRY_MAX_MS));
          return;
        }
        // Not the lock: the rows themselves are refused (a schema check). Retrying cannot help;
        // the journal still carries every decision and the process keeps deciding.
        logger.error({ err: errorMessage(err), rows: chunk.length }, 'audit rows could not be written');
      }
      this.auditQueue = chunk === this.auditQueue ? [] : this.auditQueue.slice(chunk.length);
      if (this.auditQueue.length > 0) {
        // More backlog: the next chunk in a later macrotask, so reads are decided in between.
        this.retryTimer = clock.setTimeout(() => this.writeAudit(), 0);
        return;
      }
    }
    if (this.busyAttempts >= WARN_AFTER_ATTEMPTS || this.droppedThisOutage > 0) {
      logger.info({ retries: this.busyAttempts, dropped: this.droppedThisOutage }, 'database writable again; queued audit rows written');
    }
    this.lastWriteError = null;
    this.busyAttempts = 0;
    this.droppedThisOutage = 0;
  }
}

/** One observation a row, a collapsed one too: the histograms describe reads decided, not how many a flood had. */
function observeLatency(metrics: Metrics, d: RecordedDecision, readMark: number): void {
  if (d.decidedMark !== undefined) metrics.decisionLatency.observe({ kind: d.kind }, Math.max(0, d.decidedMark - readMark) / 1000);
  if (d.publishedMark != null) metrics.swipeToPublish.observe(Math.max(0, d.publishedMark - readMark) / 1000);
}
