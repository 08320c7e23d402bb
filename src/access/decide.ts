import { INSIDE_WINDOW, NO_GRANT, type AccessIndex } from './access-index.js';
import { decisionSlot, type Decision, type DecisionSlot, type Reason } from './types.js';

/*
 * The decision core: pure, synchronous, allocation-free on the badge path. p99 target ≤ 5 µs
 * with a million cards and grants (bench/decision.ts), also while a platform sync runs
 * (bench/reconcile.ts). The *Into forms fill a slot the caller owns; decideCard and
 * decidePerson return a fresh Decision for callers off the hot path.
 */

export function decideCardInto(out: DecisionSlot, index: AccessIndex, cardNumber: string, doorId: string, at: number): DecisionSlot {
  const door = index.configuredDoor(doorId);
  if (door < 0) return fill(out, 'door_unknown', null);
  const record = index.activeCardRecord(cardNumber);
  if (record >= 0) return decideRecord(out, index, record, door, at);
  const held = index.disabledCardRecord(cardNumber);
  return held < 0 ? fill(out, 'unknown_credential', null) : fill(out, 'credential_disabled', index.recordPersonId(held));
}

export function decidePersonInto(out: DecisionSlot, index: AccessIndex, personId: number, doorId: string, at: number): DecisionSlot {
  const door = index.configuredDoor(doorId);
  if (door < 0) return fill(out, 'door_unknown', null);
  const record = index.personRecord(personId);
  if (record < 0) return fill(out, 'unknown_credential', null);
  return decideRecord(out, index, record, door, at);
}

export function decideCard(index: AccessIndex, cardNumber: string, doorId: string, at: number): Decision {
  return decideCardInto(decisionSlot(), index, cardNumber, doorId, at);
}

export function decidePerson(index: AccessIndex, personId: number, doorId: string, at: number): Decision {
  return decidePersonInto(decisionSlot(), index, personId, doorId, at);
}

function decideRecord(out: DecisionSlot, index: AccessIndex, record: number, door: number, at: number): DecisionSlot {
  const personId = index.recordPersonId(record);
  if (!index.recordActive(record)) return fill(out, 'person_suspended', personId);
  const match = index.windowMatch(record, door, at);
  return fill(out, match === INSIDE_WINDOW ? 'granted' : match === NO_GRANT ? 'no_grant' : 'outside_window', personId);
}

function fill(out: DecisionSlot, reason: Reason, personId: number | null): DecisionSlot {
  out.result = reason === 'granted' ? 'granted' : 'denied';
  out.reason = reason;
  out.personId = personId;
  return out;
}
