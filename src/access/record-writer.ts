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
  /** Window keys with their from and to, three doubles a window: own grants, then memberships. */
  readonly windows: number[];
  readonly cardKeys: number[];
  /** Cards that are not canonical decimals below 2^64 (the record cannot hold them). */
  readonly others: string[];
  /** The flags double without HAS_SUBJECT (the subject is the caller's). */
  readonly flags: number;
  readonly hasValidity: boolean;
  readonly validFrom: number;
  readonly validTo: number;
  readonly size: number;
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
  // One window a membership, naming the group (GroupDoors says which doors under which schedules).
  // A group the model does not have opens nothing (fail closed), and neither does an empty span.
  if (input.memberships !== undefined && groups !== null) {
    for (const m of input.memberships) {
      if (Number.isNaN(m.from) || Number.isNaN(m.to)) throw new RangeError(`membership of person ${input.id}: bounds are not numbers`);
      const g = groups.numberOf(m.group);
      if (g < 0 || !(m.to > m.from)) continue;
      windows.push(layout.groupWindowKey(g, GROUP_SOURCE), m.from, m.to);
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
  const windowCount = windows.length / layout.STRIDE;
  const cards = cardKeys.length / 2;
  if (windowCount >= layout.WINDOWS_LIMIT || cards >= layout.CARDS_LIMIT) throw new RangeError(`person ${input.id}: too many grants or cards for one record`);
  const validFrom = input.validFrom ?? -Infinity;
  const validTo = input.validTo ?? Infinity;
  if (Number.isNaN(validFrom) || Number.isNaN(validTo)) throw new RangeError(`person ${input.id}: validity is not a number`);
  const hasValidity = validFrom !== -Infinity || validTo !== Infinity;
  const withdrawn = input.cards.length > 0 && activeCards === 0;
  const flags =
    (input.active ? 1 : 0) +
    2 * windowCount +
    (withdrawn ? layout.WITHDRAWN : 0) +
    (hasValidity ? layout.HAS_VALIDITY : 0) +
    (hasCardRules ? layout.HAS_CARD_RULES : 0) +
    layout.CARDS_SHIFT * cards;
  return { windows, cardKeys, others, flags, hasValidity, validFrom, validTo, size: layout.recordSize(windowCount, cards, hasValidity) };
}

/** Writes a planned record at `record` (a block of at least plan.size doubles). */
export function writeRecord(data: Float64Array, words: Uint32Array, record: number, id: number, subject: MemberSubject | null, plan: RecordPlan): void {
  data[record] = id;
  if (subject !== null) {
    words[2 * (record + 1)] = subject.hi;
    words[2 * (record + 1) + 1] = subject.lo;
  } else {
    data[record + 1] = 0;
  }
  data[record + 2] = plan.flags + (subject !== null ? layout.HAS_SUBJECT : 0);
  let at = record + layout.HEADER;
  if (plan.hasValidity) {
    data[at++] = plan.validFrom;
    data[at++] = plan.validTo;
  }
  for (const w of plan.windows) data[at++] = w;
  for (const k of plan.cardKeys) data[at++] = k;
}
