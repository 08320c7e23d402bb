import type { GrantSource } from './grant-source.js';

/** Why a door did or did not open. Stored verbatim in the audit log; never rename a value. */
export type Reason =
  | 'granted'
  | 'unknown_credential'
  | 'credential_disabled'
  | 'person_suspended'
  | 'no_grant'
  | 'outside_window'
  | 'door_unknown'
  | 'bad_parity'
  | 'malformed_read'
  | 'rate_limited'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'visit_unknown'
  | 'visit_expected'
  | 'visit_checked_out'
  | 'visit_cancelled'
  | 'visit_outside_window'
  | 'visit_door_not_allowed'
  | 'visit_offline_denied'
  | 'visit_offline_cached'
  // The access model (zones, groups, schedules, holidays, validity, lockdown, areas).
  | 'outside_schedule'
  | 'holiday'
  | 'person_not_yet_valid'
  | 'person_expired'
  | 'credential_lost'
  | 'credential_not_yet_valid'
  | 'credential_expired'
  | 'lockdown'
  | 'antipassback'
  // An admin armed the reader to learn the next card (console enrolment): captured, never decided.
  | 'learn_mode';

/** Something a rule noticed that does not change the result, for the caller to log (the core logs nothing). */
export type PolicyEvent = 'antipassback_soft';

export interface Decision {
  readonly result: 'granted' | 'denied';
  readonly reason: Reason;
  readonly personId: number | null;
  /** Which source's window granted (the audit row's source); null or absent when none says. */
  readonly source?: GrantSource | null;
  readonly event?: PolicyEvent | null;
}

export function deny(reason: Reason, personId: number | null = null): Decision {
  return { result: 'denied', reason, personId };
}

export function grant(personId: number | null, reason: Reason = 'granted'): Decision {
  return { result: 'granted', reason, personId };
}

/**
 * A decision the caller owns and the core fills in (decideCardInto), so that the badge path
 * allocates nothing: while a platform sync churns memory, even one small allocation on a
 * cold cache line shows in the decision's p99 (BENCHMARKS.md). Read it before the next
 * decision into the same slot; keep a copy, never the slot.
 */
export interface DecisionSlot {
  result: Decision['result'];
  reason: Reason;
  personId: number | null;
  source: GrantSource | null;
  event: PolicyEvent | null;
}

export function decisionSlot(): DecisionSlot {
  return { result: 'denied', reason: 'unknown_credential', personId: null, source: null, event: null };
}
