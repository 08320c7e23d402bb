import { WINDOW_STRIDE, type AccessIndex, type PersonAccess } from './access-index.js';
import { deny, type Decision } from './types.js';

/*
 * The decision core: pure, synchronous, allocation-light. Called for every badge; p99 target
 * ≤ 5 µs with a million cards and grants (bench/decision.ts). Denials that carry no person are
 * shared constants so the common "unknown card" path allocates nothing.
 */

const DOOR_UNKNOWN = Object.freeze(deny('door_unknown'));
const UNKNOWN_CREDENTIAL = Object.freeze(deny('unknown_credential'));

export function decideCard(index: AccessIndex, cardNumber: string, doorId: string, at: number): Decision {
  const door = index.configuredDoor(doorId);
  if (door < 0) return DOOR_UNKNOWN;
  const person = index.activeCardHolder(cardNumber);
  if (person !== undefined) return decideFor(person, door, at);
  const holder = index.disabledCardHolder(cardNumber);
  return holder === undefined ? UNKNOWN_CREDENTIAL : deny('credential_disabled', holder.id);
}

export function decidePerson(index: AccessIndex, personId: number, doorId: string, at: number): Decision {
  const door = index.configuredDoor(doorId);
  if (door < 0) return DOOR_UNKNOWN;
  const person = index.person(personId);
  if (person === undefined) return UNKNOWN_CREDENTIAL;
  return decideFor(person, door, at);
}

function decideFor(person: PersonAccess, door: number, at: number): Decision {
  if (!person.active) return deny('person_suspended', person.id);
  const w = person.windows;
  let sawDoor = false;
  for (let i = 0; i < w.length; i += WINDOW_STRIDE) {
    if (w[i] !== door) continue;
    if (at >= w[i + 1]! && at < w[i + 2]!) return { result: 'granted', reason: 'granted', personId: person.id };
    sawDoor = true;
  }
  return deny(sawDoor ? 'outside_window' : 'no_grant', person.id);
}
