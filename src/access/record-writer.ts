import { cardKeyParts } from './card-keys.js';
import type { GroupDoors } from './group-doors.js';
import { sourceCode } from './grant-source.js';
import type { PersonInput } from './index-inputs.js';
import * as layout from './record-layout.js';
import { cardStateOf, hasOwnValidity } from './side-tables.js';
import type { MemberSubject } from './subject-table.js';

/*
 * A PersonInput turned into the doubles of its record (record-layout.ts), in two steps so that
 * every check runs before the index changes anything: planRecord validates and encodes
 * (throws on input that would fail open or cannot be held), writeRecord only copies.
 */

export interface RecordPlan {
  /** The windows' doubles: own grants (key, from, to), then memberships (key, or key, from, to). */
  readonly windows: number[];
  readonly windowCount: number;
  readonly cardKeys: number[];
  /** Cards that are not canonical decimals below 2^64 (the record cannot hold them). */
  readonly others: string[];
  /** The flags double without HAS_SUBJECT (the subject is the caller's). */
  readonly flags: number;
  readonly hasValidity: boolean;
  readonly validFrom: number;
  readonly validTo: number;
}

const GROUP_SOURCE = sourceCode('group');

export function planRecord(
  input: PersonInput,
  groups: GroupDoors | null,
  slotOf: (schedule: string | null) => number,
  doorNumber: (door: string) => number,
): RecordPlan {
  const windows: number[] = [];
  for (const g of input.grants) windows.push(layout.windowKey(doorNumber(g.door), slotOf(g.schedule ?? null), sourceCode(g.source)), g.from, g.to);
  let windowCount = input.grants.length;
  // One window a membership, naming the group (GroupDoors says which doors under which schedules),
  // its key alone when the membership is unbounded. A group the model does not have opens
  // nothing (fail closed), and neither does an empty span.
  if (input.memberships !== undefined && groups !== null) {
    for (const m of input.memberships) {
      if (Number.isNaN(m.from) || Number.isNaN(m.to)) throw new RangeError(`membership of person ${input.id}: bounds are not numbers`);
      const g = groups.numberOf(m.group);
      if (g < 0 || !(m.to > m.from)) continue;
      const standing = m.from === -Infinity && m.to === Infinity;
      windows.push(layout.groupWindowKey(g, groups.filterOf(g), standing, GROUP_SOURCE));
      if (!standing) windows.push(m.from, m.to);
      windowCount++;
    }
  }
  const cardKeys: number[] = [];
  const others: string[] = [];
  let activeCards = 0;
  let hasCardRules = false;
  for (const c of input.cards) {
    // NaN would make both comparisons false: a card valid for ever. Refuse it instead.
    if (Number.isNaN(c.validFrom ?? 0) || Number.isNaN(c.validTo ?? 0)) throw new RangeError(`card of person ${input.id}: validity is not a number`);
    const parts = cardKeyParts(c.number);
    if (parts) cardKeys.push(parts[0], parts[1]);
    else others.push(c.number);
    if (cardStateOf(c) !== 'active') continue;
    activeCards++;
    if (hasOwnValidity(c)) hasCardRules = true;
  }
  const cards = cardKeys.length / 2;
  if (windows.length >= layout.SPAN_LIMIT || cards >= layout.CARDS_LIMIT) throw new RangeError(`person ${input.id}: too many grants or cards for one record`);
  const validFrom = input.validFrom ?? -Infinity;
  const validTo = input.validTo ?? Infinity;
  if (Number.isNaN(validFrom) || Number.isNaN(validTo)) throw new RangeError(`person ${input.id}: validity is not a number`);
  const hasValidity = validFrom !== -Infinity || validTo !== Infinity;
  const withdrawn = input.cards.length > 0 && activeCards === 0;
  const flags =
    (input.active ? 1 : 0) +
    2 * windows.length +
    (withdrawn ? layout.WITHDRAWN : 0) +
    (hasValidity ? layout.HAS_VALIDITY : 0) +
    (hasCardRules ? layout.HAS_CARD_RULES : 0) +
    layout.CARDS_SHIFT * cards;
  return { windows, windowCount, cardKeys, others, flags, hasValidity, validFrom, validTo };
}

/** Doubles the planned record takes, with the subject when there is one. */
export function plannedSize(plan: RecordPlan, subject: MemberSubject | null): number {
  return layout.recordSize(plan.windows.length, plan.cardKeys.length / 2, plan.hasValidity, subject !== null);
}

/** Writes a planned record at `record` (a block of at least plannedSize doubles). */
export function writeRecord(data: Float64Array, words: Uint32Array, record: number, id: number, subject: MemberSubject | null, plan: RecordPlan): void {
  data[record] = id;
  data[record + 1] = plan.flags + (subject !== null ? layout.HAS_SUBJECT : 0);
  let at = record + layout.HEADER;
  if (plan.hasValidity) {
    data[at++] = plan.validFrom;
    data[at++] = plan.validTo;
  }
  for (const w of plan.windows) data[at++] = w;
  for (const k of plan.cardKeys) data[at++] = k;
  // Last: read only to remove the person, and as raw bits (never through `data`: they may spell a NaN).
  if (subject !== null) {
    words[2 * at] = subject.hi;
    words[2 * at + 1] = subject.lo;
  }
}
