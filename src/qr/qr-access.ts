import type { AccessIndex } from '../access/access-index.js';
import { decidePerson } from '../access/decide.js';
import type { FailureGuard } from '../access/failure-guard.js';
import { deny, type Decision } from '../access/types.js';
import type { Clock } from '../util/clock.js';
import type { VisitorGate } from '../visitors/visitor-gate.js';
import { classifyQrPayload, type QrPayload } from './classify.js';
import { verifyMemberToken } from './member-token.js';

export interface QrAccessOptions {
  index: AccessIndex;
  key: Buffer;
  /** null when no booking platform is configured: visitor codes are then refused. */
  visitorGate: VisitorGate | null;
  guard: FailureGuard;
  clock: Clock;
}

const RATE_LIMITED = Object.freeze(deny('rate_limited'));
const MALFORMED = Object.freeze(deny('malformed_read'));
const TOKEN_INVALID = Object.freeze(deny('token_invalid'));
const TOKEN_EXPIRED = Object.freeze(deny('token_expired'));
const NO_VISITORS = Object.freeze(deny('visit_door_not_allowed'));
const UNKNOWN = Object.freeze(deny('unknown_credential'));

/**
 * One QR read → one decision. Member tokens are decided synchronously from the key and the
 * in-memory index (no I/O, works offline); only visitor codes go to the platform, and only
 * when they have the exact shape of a code. Order matters: the brute-force guard first (a
 * locked reader costs nothing and reaches nobody), then classification, then the credential.
 *
 * At most one visitor lookup per reader is in flight: a reader produces one scan at a time,
 * and without this bound a burst of codes would all reach the platform before the first
 * failure is counted.
 */
export class QrAccess {
  private readonly pendingVisitorLookups = new Set<string>();

  constructor(private readonly opts: QrAccessOptions) {}

  decide(readerId: string, doorId: string, payload: string): Decision | Promise<Decision> {
    return this.decideClassified(readerId, doorId, classifyQrPayload(payload));
  }

  /** For a caller that has classified the payload already (the badge pipeline labels it too). */
  /** `readAt`: when the payload was read; a visitor's decision is made for that instant, however late the platform answers. */
  decideClassified(readerId: string, doorId: string, read: QrPayload, readAt: number = this.opts.clock.now()): Decision | Promise<Decision> {
    if (!this.opts.guard.check(readerId, readAt)) return RATE_LIMITED;
    switch (read.kind) {
      case 'garbage':
        return this.record(readerId, MALFORMED);
      case 'member':
        return this.record(readerId, this.decideMember(read.token, doorId, readAt));
      case 'visitor':
        return this.decideVisitor(readerId, read.code, doorId, readAt);
    }
  }

  /**
   * The token names a subject; the index says which of this gateway's people it is, if any
   * (unknown here, or shared by two people: unknown_credential). Then, in this order: a
   * suspended person, a revoked token, a person whose cards were all taken away, and finally
   * the door and time windows, exactly as for a badge.
   */
  private decideMember(token: string, doorId: string, now: number): Decision {
    const { index } = this.opts;
    const check = verifyMemberToken(this.opts.key, token, now);
    if (!check.ok) return check.reason === 'token_expired' ? TOKEN_EXPIRED : TOKEN_INVALID;
    const record = index.subjectRecord(check.subject);
    if (record < 0) return UNKNOWN;
    const personId = index.recordPersonId(record);
    if (!index.recordActive(record)) return deny('person_suspended', personId);
    if (check.issuedAt < index.tokensValidAfter(personId)) return deny('token_revoked', personId);
    if (index.recordCardsWithdrawn(record)) return deny('credential_disabled', personId);
    return decidePerson(index, personId, doorId, now);
  }

  private async decideVisitor(readerId: string, code: string, doorId: string, readAt: number): Promise<Decision> {
    const gate = this.opts.visitorGate;
    if (gate === null) return this.record(readerId, NO_VISITORS);
    if (this.pendingVisitorLookups.has(readerId)) return RATE_LIMITED;
    this.pendingVisitorLookups.add(readerId);
    try {
      return this.record(readerId, await gate.decide(code, doorId, readAt));
    } finally {
      this.pendingVisitorLookups.delete(readerId);
    }
  }

  private record(readerId: string, decision: Decision): Decision {
    const now = this.opts.clock.now();
    if (decision.result === 'granted') this.opts.guard.recordSuccess(readerId, now);
    else this.opts.guard.recordFailure(readerId, now);
    return decision;
  }
}
