import { GRANTED, NO_GRANT, OUTSIDE_SCHEDULE, type AccessIndex } from './access-index.js';
import { sourceOf } from './grant-source.js';
import { PLAIN_CONTEXT, type PolicyContext } from './policy/context.js';
import { EXPIRED, NOT_YET_VALID, VALID } from './side-tables.js';
import type { MemberSubject } from './subject-table.js';
import { decisionSlot, type Decision, type DecisionSlot, type Reason } from './types.js';

export type { PolicyContext, SiteState, AntiPassbackHook, FirstPersonInHook } from './policy/context.js';
export { PLAIN_CONTEXT } from './policy/context.js';

/*
 * The decision core: every rule that turns a card read or a member token into a decision, in
 * the one order below. Pure and synchronous; the *Into forms fill a slot the caller owns and
 * allocate nothing (BENCHMARKS.md: p99 ≤ 1 µs with a million people). Visitor codes, whose
 * answer comes from the platform, are decided by policy/visits.ts from what the platform said.
 *
 *   1. door_unknown                   the reader's door is not configured
 *   2. lockdown                       the site is locked down and the person overrides nothing
 *   3. the credential                 unknown_credential, credential_disabled / credential_lost,
 *                                     credential_not_yet_valid / credential_expired
 *                                     (member tokens: token_revoked, a person without active cards)
 *   4. the person                     person_suspended, person_not_yet_valid / person_expired
 *   5. the windows for the door       no_grant, outside_window, holiday / outside_schedule
 *   6. anti-passback (hook)           hard: antipassback; soft: granted with an event
 *   7. granted                        with the source of the window that opened the door;
 *                                     first-person-in (hook) is told
 */

export function decideCardInto(
  out: DecisionSlot,
  index: AccessIndex,
  cardNumber: string,
  doorId: string,
  at: number,
  ctx: PolicyContext = PLAIN_CONTEXT,
  readerId = '',
): DecisionSlot {
  const door = index.configuredDoor(doorId);
  if (door < 0) return fill(out, 'door_unknown', null);
  const record = index.activeCardRecord(cardNumber);
  if (record < 0) {
    const held = index.disabledCardRecord(cardNumber);
    const holder = held < 0 ? null : index.recordPersonId(held);
    if (holder === null ? ctx.site.lockdown : lockedOut(ctx, index, holder, at)) return fill(out, 'lockdown', holder);
    if (holder === null) return fill(out, 'unknown_credential', null);
    return fill(out, index.cardLost(cardNumber) ? 'credential_lost' : 'credential_disabled', holder);
  }
  const personId = index.recordPersonId(record);
  if (lockedOut(ctx, index, personId, at)) return fill(out, 'lockdown', personId);
  if (index.recordHasCardRules(record)) {
    const validity = index.cardValidity(cardNumber, at);
    if (validity !== VALID) return fill(out, validity === NOT_YET_VALID ? 'credential_not_yet_valid' : 'credential_expired', personId);
  }
  return decideHolder(out, index, record, personId, door, doorId, at, ctx, readerId);
}

export function decidePersonInto(
  out: DecisionSlot,
  index: AccessIndex,
  personId: number,
  doorId: string,
  at: number,
  ctx: PolicyContext = PLAIN_CONTEXT,
  readerId = '',
): DecisionSlot {
  const door = index.configuredDoor(doorId);
  if (door < 0) return fill(out, 'door_unknown', null);
  const record = index.personRecord(personId);
  if (record < 0) return fill(out, nobody(ctx), null);
  if (lockedOut(ctx, index, personId, at)) return fill(out, 'lockdown', personId);
  return decideHolder(out, index, record, personId, door, doorId, at, ctx, readerId);
}

/**
 * A member QR token whose signature and expiry src/qr checked (crypto, not policy): it names a
 * subject and was issued at `issuedAt`. A subject two people share names nobody. The token is
 * a credential of the person, so it is void when revoked after issue, and when the person's
 * every card was taken away (their access was withdrawn without revoking tokens).
 */
export function decideMemberInto(
  out: DecisionSlot,
  index: AccessIndex,
  subject: MemberSubject,
  issuedAt: number,
  doorId: string,
  at: number,
  ctx: PolicyContext = PLAIN_CONTEXT,
  readerId = '',
): DecisionSlot {
  const door = index.configuredDoor(doorId);
  if (door < 0) return fill(out, 'door_unknown', null);
  const record = index.subjectRecord(subject);
  if (record < 0) return fill(out, nobody(ctx), null);
  const personId = index.recordPersonId(record);
  if (lockedOut(ctx, index, personId, at)) return fill(out, 'lockdown', personId);
  // Suspension first, as for cards: it says the most about the person.
  if (!index.recordActive(record)) return fill(out, 'person_suspended', personId);
  if (issuedAt < index.tokensValidAfter(personId)) return fill(out, 'token_revoked', personId);
  if (index.recordCardsWithdrawn(record)) return fill(out, 'credential_disabled', personId);
  return decideHolder(out, index, record, personId, door, doorId, at, ctx, readerId);
}

export function decideCard(index: AccessIndex, cardNumber: string, doorId: string, at: number, ctx?: PolicyContext): Decision {
  return copy(decideCardInto(decisionSlot(), index, cardNumber, doorId, at, ctx));
}

export function decidePerson(index: AccessIndex, personId: number, doorId: string, at: number, ctx?: PolicyContext): Decision {
  return copy(decidePersonInto(decisionSlot(), index, personId, doorId, at, ctx));
}

/** Steps 4 to 7 for a credential that names a person (record) at a configured door. */
function decideHolder(
  out: DecisionSlot,
  index: AccessIndex,
  record: number,
  personId: number,
  door: number,
  doorId: string,
  at: number,
  ctx: PolicyContext,
  readerId: string,
): DecisionSlot {
  if (!index.recordActive(record)) return fill(out, 'person_suspended', personId);
  const validity = index.recordValidity(record, at);
  if (validity !== VALID) return fill(out, validity === EXPIRED ? 'person_expired' : 'person_not_yet_valid', personId);
  const match = index.matchWindows(record, door, at);
  if (match < GRANTED) return fill(out, windowDenial(index, match, at), personId);
  out.event = null;
  const antiPassback = ctx.antiPassback;
  if (antiPassback !== undefined) {
    const verdict = antiPassback.check(personId, readerId, at);
    if (verdict === 'hard') return fill(out, 'antipassback', personId);
    if (verdict === 'soft') {
      fill(out, 'granted', personId, sourceOf(match - GRANTED));
      out.event = 'antipassback_soft';
      ctx.firstPersonIn?.onGranted(doorId, index.firstPersonIn(personId, at), at);
      return out;
    }
  }
  ctx.firstPersonIn?.onGranted(doorId, index.firstPersonIn(personId, at), at);
  return fill(out, 'granted', personId, sourceOf(match - GRANTED));
}

/** During a lockdown everyone is refused but members of an override group (at `at`). */
function lockedOut(ctx: PolicyContext, index: AccessIndex, personId: number, at: number): boolean {
  return ctx.site.lockdown && !index.lockdownOverride(personId, at);
}

/** A credential that names nobody: refused as such, or as lockdown while one is on (it says more). */
function nobody(ctx: PolicyContext): Reason {
  return ctx.site.lockdown ? 'lockdown' : 'unknown_credential';
}

/** A window inside its bounds but closed by its schedule says `holiday` when today is one. */
function windowDenial(index: AccessIndex, match: number, at: number): Reason {
  if (match === NO_GRANT) return 'no_grant';
  if (match !== OUTSIDE_SCHEDULE) return 'outside_window';
  return index.schedules?.isHoliday(at) === true ? 'holiday' : 'outside_schedule';
}

function fill(out: DecisionSlot, reason: Reason, personId: number | null, source: DecisionSlot['source'] = null): DecisionSlot {
  out.result = reason === 'granted' ? 'granted' : 'denied';
  out.reason = reason;
  out.personId = personId;
  out.source = source;
  if (reason !== 'granted') out.event = null;
  return out;
}

/** A Decision of its own for callers off the hot path; fields that say nothing are left out. */
export function copy(slot: DecisionSlot): Decision {
  const d: { -readonly [K in keyof Decision]: Decision[K] } = { result: slot.result, reason: slot.reason, personId: slot.personId };
  if (slot.source !== null) d.source = slot.source;
  if (slot.event !== null) d.event = slot.event;
  return d;
}
