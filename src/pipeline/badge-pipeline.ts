import { decideCard } from '../access/decide.js';
import type { AccessIndex } from '../access/access-index.js';
import { deny, type Decision } from '../access/types.js';
import type { ReaderConfig } from '../config/schema.js';
import { classifyQrPayload, type QrPayload } from '../qr/classify.js';
import { parseCardRead } from '../readers/card-formats.js';
import type { AuditLog } from '../store/audit.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { maskCredential } from '../util/mask.js';
import type { Metrics } from '../metrics.js';
import type { DecisionEvent, RecentDecisions } from './recent-decisions.js';

/** The door side of the pipeline: anything that can pulse a relay now or say it cannot. */
export interface RelayPort {
  pulse(doorId: string): { status: 'sent' | 'unreachable' };
}

/** QR payloads (member tokens: sync; visitor codes: async through the platform). */
export interface QrDecider {
  decideClassified(readerId: string, doorId: string, read: QrPayload): Decision | Promise<Decision>;
}

export interface BadgePipelineDeps {
  index: AccessIndex;
  relay: RelayPort;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  recent: RecentDecisions;
  qr: QrDecider | null;
}

type Kind = DecisionEvent['kind'];

const QR_KIND: Record<QrPayload['kind'], Kind> = {
  member: 'member-qr',
  visitor: 'visitor-qr',
  garbage: 'garbage',
};

/**
 * Badge read → local decision → relay pulse → audit. Order matters on the hot path: the
 * unlock is published before anything is written, so logging never delays a door; the audit
 * row follows in the same event-loop turn.
 */
export class BadgePipeline {
  private readonly listeners: Array<(e: DecisionEvent) => void> = [];

  constructor(private readonly deps: BadgePipelineDeps) {}

  /** Observers of every finished decision (the demo's console, future live status page). */
  onDecision(listener: (e: DecisionEvent) => void): void {
    this.listeners.push(listener);
  }

  onLine(reader: ReaderConfig, line: string): void {
    if (reader.payload === 'qr') return this.onQr(reader, line);
    const read = parseCardRead(line, reader.cardFormat);
    if (read.ok) {
      const decision = decideCard(this.deps.index, read.number, reader.door, this.deps.clock.now());
      this.finish(reader, 'card', maskCredential(read.number), decision);
      return;
    }
    // An `auto` reader (a reception scanner) also sees QR payloads; a card reader's bad read is final.
    if (reader.payload === 'auto' && read.reason === 'malformed_read') return this.onQr(reader, line);
    this.finish(reader, 'card', maskCredential(line.slice(0, 32)), deny(read.reason));
  }

  private onQr(reader: ReaderConfig, payload: string): void {
    const shown = qrLabel(payload);
    if (!this.deps.qr) {
      this.finish(reader, 'garbage', shown, deny('malformed_read'));
      return;
    }
    const read = classifyQrPayload(payload);
    const kind = QR_KIND[read.kind];
    let outcome: Decision | Promise<Decision>;
    try {
      outcome = this.deps.qr.decideClassified(reader.id, reader.door, read);
    } catch (err) {
      this.deps.logger.error({ err: (err as Error).message, reader: reader.id }, 'qr decision failed; denying');
      outcome = deny('malformed_read');
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (d) => this.finish(reader, kind, shown, d),
        (err: unknown) => {
          this.deps.logger.error({ err: (err as Error).message, reader: reader.id }, 'visitor check failed; denying');
          this.finish(reader, kind, shown, deny('visit_offline_denied'));
        },
      );
    } else {
      this.finish(reader, kind, shown, outcome);
    }
  }

  private finish(reader: ReaderConfig, kind: Kind, credential: string, decision: Decision): void {
    let relayState: DecisionEvent['relay'] = 'none';
    if (decision.result === 'granted') relayState = this.deps.relay.pulse(reader.door).status;
    // mqtt-packet corks the socket and uncorks on process.nextTick, so synchronous work here
    // would hold the unlock's bytes in the process. The bookkeeping is queued behind that
    // uncork: still in this turn of the event loop (no other read is handled in between), but
    // after the command is on the wire.
    process.nextTick(() => this.record(reader, kind, credential, decision, relayState));
  }

  private record(reader: ReaderConfig, kind: Kind, credential: string, decision: Decision, relayState: DecisionEvent['relay']): void {
    const { audit, metrics, logger, recent, clock } = this.deps;
    if (relayState === 'unreachable') metrics.relayUnreachable.inc();
    const at = clock.now();
    audit.append({
      at,
      readerId: reader.id,
      doorId: reader.door,
      credential,
      personId: decision.personId,
      result: decision.result,
      reason: decision.reason,
      relay: relayState,
    });
    metrics.decisions.inc({ result: decision.result, reason: decision.reason });
    const event: DecisionEvent = { at, readerId: reader.id, doorId: reader.door, credential, kind, result: decision.result, reason: decision.reason, relay: relayState };
    recent.push(event);
    for (const l of this.listeners) l(event);
    logger.info(
      { reader: reader.id, door: reader.door, credential, kind, result: decision.result, reason: decision.reason, relay: relayState },
      'decision',
    );
  }
}

/** QR payloads are bearer secrets too: show only a short, useless-to-replay label. */
function qrLabel(payload: string): string {
  return payload.startsWith('LT') ? `LT…${payload.slice(-4)}` : maskCredential(payload.slice(0, 64));
}
