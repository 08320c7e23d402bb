import { performance } from 'node:perf_hooks';
import { decideCardInto, PLAIN_CONTEXT, type PolicyContext } from '../access/decide.js';
import type { AccessIndex } from '../access/access-index.js';
import type { FailureGuard } from '../access/failure-guard.js';
import { decisionSlot, deny, type Decision, type Reason } from '../access/types.js';
import type { ReaderConfig } from '../config/schema.js';
import { classifyQrPayload, looksLikeCardNumber, type QrPayload } from '../qr/classify.js';
import { parseCardRead } from '../readers/card-formats.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { maskCredential } from '../util/mask.js';
import type { LearnMode } from '../readers/learn-mode.js';
import type { DecisionListener, DecisionRecorder, RecordedDecision } from './decision-recorder.js';
import type { DecisionEvent } from './recent-decisions.js';

/**
 * The door side of the pipeline: anything that can pulse a relay now or say it cannot. `readAt`
 * is the read's time: the command's lifetime counts from it (expired: it is over already).
 */
export interface RelayPort {
  pulse(doorId: string, readAt: number): { status: 'sent' | 'unreachable' | 'expired' };
}

/** QR payloads (member tokens: sync; visitor codes: async through the platform). */
export interface QrDecider {
  /** `readAt`: the time the payload was read; the decision is made for that instant. */
  decideClassified(readerId: string, doorId: string, read: QrPayload, readAt: number): Decision | Promise<Decision>;
}

export interface BadgePipelineDeps {
  index: AccessIndex;
  relay: RelayPort;
  /** Audit, metrics, status ring and log: all of it after the unlock is on its way (a FloodCollapser in front of the recorder). */
  recorder: Pick<DecisionRecorder, 'onDecision'> & { record(d: RecordedDecision): void };
  clock: Clock;
  logger: Logger;
  qr: QrDecider | null;
  /**
   * Card guessing: unknown, malformed and bad-parity card reads per reader. While a reader is
   * locked every read there (cards and QR alike) is refused before anything is looked up.
   */
  cardGuard?: FailureGuard | undefined;
  /** Lockdown and the anti-passback / first-person-in hooks, owned by the gateway; absent: none. */
  policy?: PolicyContext | undefined;
  /**
   * A granted read's pulse was sent: the person went through (anti-passback positions move
   * then, never on a grant whose door could not be opened).
   */
  opened?: ((personId: number, readerId: string, at: number) => void) | undefined;
  /** Enrolment: a card read on an armed reader is captured for the admin, not decided (readers/learn-mode.ts). */
  learn?: Pick<LearnMode, 'active' | 'take'> | undefined;
  /**
   * A monotonic high-resolution time in ms (performance.now() by default), for the latency
   * marks the recorder turns into histograms: the wall clock above is too coarse for microseconds.
   */
  hrNow?: (() => number) | undefined;
}

const RATE_LIMITED = Object.freeze(deny('rate_limited'));
const LEARNED = Object.freeze(deny('learn_mode'));

/** Card outcomes that say "no such card": what a guesser produces. Known cards denied for a reason are not guesses. */
function isGuess(reason: Reason): boolean {
  return reason === 'unknown_credential' || reason === 'malformed_read' || reason === 'bad_parity';
}

type Kind = DecisionEvent['kind'];

const QR_KIND: Record<QrPayload['kind'], Kind> = {
  member: 'member-qr',
  visitor: 'visitor-qr',
  garbage: 'garbage',
};

/**
 * Badge read → local decision → relay pulse → audit. Order matters on the hot path: the
 * unlock is published before anything is written, so bookkeeping never delays a door (see
 * DecisionRecorder for when the audit row follows).
 */
export class BadgePipeline {
  /** Card decisions are filled in here and copied into the record by finish(), synchronously. */
  private readonly cardDecision = decisionSlot();
  private readonly hrNow: () => number;

  constructor(private readonly deps: BadgePipelineDeps) {
    this.hrNow = deps.hrNow ?? (() => performance.now());
  }

  /** Observers of every finished decision (the demo's console, future live status page). */
  onDecision(listener: DecisionListener): void {
    this.deps.recorder.onDecision(listener);
  }

  onLine(reader: ReaderConfig, line: string): void {
    // One clock read per line: the guard, the decision and the audit row all see the read's time.
    const now = this.deps.clock.now();
    // The read's mark for the latency histograms: one more number, nothing allocated.
    const mark = this.hrNow();
    const guard = this.deps.cardGuard;
    // A locked reader refuses even a real card: during a sweep the reader cannot tell the
    // attacker's next frame from a member's card, and a lock that let known cards through
    // would answer "this one exists" to the sweep. The member waits out lockoutSec or uses
    // another reader; the alarm on the status page tells the operator why.
    if (guard !== undefined && !guard.check(reader.id, now)) {
      this.finish(reader, 'card', line.slice(0, 32), maskCredential, RATE_LIMITED, now, mark);
      return;
    }
    if (reader.payload === 'qr') return this.onQr(reader, line, now, mark);
    const read = parseCardRead(line, reader.cardFormat);
    if (read.ok) {
      const learn = this.deps.learn;
      if (learn !== undefined && learn.active && learn.take(reader.id, read.number, reader.cardFormat, now)) {
        this.finish(reader, 'card', read.number, maskCredential, LEARNED, now, mark);
        return;
      }
      const policy = this.deps.policy ?? PLAIN_CONTEXT;
      this.finishCard(reader, read.number, decideCardInto(this.cardDecision, this.deps.index, read.number, reader.door, now, policy, reader.id), now, mark);
      return;
    }
    // An `auto` reader (a reception scanner) also sees QR payloads; a card reader's bad read is
    // final, and so is anything shaped like a card number in another notation (a hex UID on a
    // decimal reader): as a "visitor code" it would go to the booking platform.
    if (reader.payload === 'auto' && read.reason === 'malformed_read' && !looksLikeCardNumber(line)) return this.onQr(reader, line, now, mark);
    this.finishCard(reader, line.slice(0, 32), deny(read.reason), now, mark);
  }

  /** A card decided: acted on and recorded, then counted by the guess guard (after the unlock is on its way). */
  private finishCard(reader: ReaderConfig, raw: string, decision: Decision, now: number, mark: number): void {
    this.finish(reader, 'card', raw, maskCredential, decision, now, mark);
    const guard = this.deps.cardGuard;
    if (guard === undefined) return;
    if (decision.result === 'granted') guard.recordSuccess(reader.id, now);
    else if (isGuess(decision.reason)) guard.recordFailure(reader.id, now);
  }

  /**
   * A visitor code is answered by the platform, up to seconds later: the decision, the
   * command's lifetime and the audit row still count from `now`, the read's time.
   */
  private onQr(reader: ReaderConfig, payload: string, now: number, mark: number): void {
    if (!this.deps.qr) {
      this.finish(reader, 'garbage', payload, qrLabel, deny('malformed_read'), now, mark);
      return;
    }
    const read = classifyQrPayload(payload);
    const kind = QR_KIND[read.kind];
    let outcome: Decision | Promise<Decision>;
    try {
      outcome = this.deps.qr.decideClassified(reader.id, reader.door, read, now);
    } catch (err) {
      this.deps.logger.error({ err: (err as Error).message, reader: reader.id }, 'qr decision failed; denying');
      outcome = deny('malformed_read');
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (d) => this.finish(reader, kind, payload, qrLabel, d, now, mark),
        (err: unknown) => {
          this.deps.logger.error({ err: (err as Error).message, reader: reader.id }, 'visitor check failed; denying');
          this.finish(reader, kind, payload, qrLabel, deny('visit_offline_denied'), now, mark);
        },
      );
    } else {
      this.finish(reader, kind, payload, qrLabel, outcome, now, mark);
    }
  }

  /**
   * `mask` turns the raw credential into what may be recorded; it runs after the pulse, like
   * everything that does not decide whether the door opens. `decision` may be the pipeline's
   * reused slot: its fields are copied into the record here and the object is not kept.
   * `readMark`: the read's hrNow(); the decided and published marks are taken here, and only
   * the recorder, after the unlock, turns them into observations.
   */
  private finish(reader: ReaderConfig, kind: Kind, raw: string, mask: (raw: string) => string, decision: Decision, at: number, readMark: number): void {
    const decidedMark = this.hrNow();
    const relay = decision.result === 'granted' ? this.deps.relay.pulse(reader.door, at).status : 'none';
    const publishedMark = relay === 'sent' ? this.hrNow() : null;
    if (relay === 'sent' && decision.personId !== null) this.deps.opened?.(decision.personId, reader.id, at);
    this.deps.recorder.record({
      at,
      readerId: reader.id,
      doorId: reader.door,
      credential: mask(raw),
      personId: decision.personId,
      kind,
      result: decision.result,
      reason: decision.reason,
      relay,
      // Flat numbers on the row the recorder keeps anyway: no object of their own.
      readMark,
      decidedMark,
      publishedMark,
      // Always both keys (undefined when none): one object shape for every read, and no
      // spread of a temporary object to build it.
      source: decision.source ?? undefined,
      event: decision.event ?? undefined,
    });
  }
}

/** QR payloads are bearer secrets too: show only a short, useless-to-replay label. */
function qrLabel(payload: string): string {
  return payload.startsWith('LT') ? `LT…${payload.slice(-4)}` : maskCredential(payload.slice(0, 64));
}
