import type { AccessIndex } from '../access/access-index.js';
import { copy, decideMemberInto, PLAIN_CONTEXT, type PolicyContext } from '../access/decide.js';
import type { FailureGuard } from '../access/failure-guard.js';
import { decisionSlot, deny, type Decision } from '../access/types.js';
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
  /** Lockdown and the anti-passback / first-person-in hooks; absent: none. */
  policy?: PolicyContext;
}

const RATE_LIMITED = Object.freeze(deny('rate_limited'));
const MALFORMED = Object.freeze(deny('malformed_read'));
const TOKEN_INVALID = Object.freeze(deny('token_invalid'));
const TOKEN_EXPIRED = Object.freeze(deny('token_expired'));
const NO_VISITORS = Object.freeze(deny('visit_door_not_allowed'));

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
  /** Filled by the core and copied at once: a token read already allocates (base64, HMAC), the copy is noise. */
  private readonly slot = decisionSlot();

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
        return this.record(readerId, this.decideMember(read.token, readerId, doorId, readAt));
      case 'visitor':
        return this.decideVisitor(readerId, read.code, doorId, readAt);
    }
  }

  /**
   * The signature and expiry are checked here (crypto); everything after, from the subject to
   * the door's windows, is the decision core's (decideMemberInto), exactly as for a badge.
   */
  private decideMember(token: string, readerId: string, doorId: string, now: number): Decision {
    const check = verifyMemberToken(this.opts.key, token, now);
    if (!check.ok) return check.reason === 'token_expired' ? TOKEN_EXPIRED : TOKEN_INVALID;
    const policy = this.opts.policy ?? PLAIN_CONTEXT;
    return copy(decideMemberInto(this.slot, this.opts.index, check.subject, check.issuedAt, doorId, now, policy, readerId));
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
