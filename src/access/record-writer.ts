import { KeyParser } from './card-keys.js';
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
 *
 * The plan is a scratch, reused from one person to the next: the change watcher puts 100,000
 * people in a row on the thread that decides badges, and a plan of fresh arrays each was ~650
 * bytes of garbage a person, a third of that fill's young allocation (bench/bulk-apply-gc.ts
 * with HEAPPROF), so a scavenge every few thousand people. Its arrays only grow; the counts say
 * how much of them this person uses. A plan is valid until the next planRecord into it.
 */

export interface RecordPlan {
  /** The windows' doubles: own grants (key, from, to), then memberships (key, or key, from, to); `windowDoubles` of them. */
  windows: number[];
  windowDoubles: number;
  windowCount: number;
  /** Two doubles a card, `cardKeyDoubles` of them. */
  cardKeys: number[];
  cardKeyDoubles: number;
  /** Cards that are not canonical decimals below 2^64 (the record cannot hold them), `otherCount` of them. */
  others: string[];
  otherCount: number;
  /** The flags double without HAS_SUBJECT (the subject is the caller's). */
  flags: number;
  hasValidity: boolean;
  validFrom: number;
  validTo: number;
}

export function newRecordPlan(): RecordPlan {
  return { windows: [], windowDoubles: 0, windowCount: 0, cardKeys: [], cardKeyDoubles: 0, others: [], otherCount: 0, flags: 0, hasValidity: false, validFrom: 0, validTo: 0 };
}

/** Card numbers into halves without a pair allocated per card. */
const keys = new KeyParser();

const GROUP_SOURCE = sourceCode('group');

export function planRecord(
  input: PersonInput,
  groups: GroupDoors | null,
  slotOf: (schedule: string | null) => number,
  doorNumber: (door: string) => number,
  into: RecordPlan = newRecordPlan(),
): RecordPlan {
  const windows = into.windows;
  let w = 0;
  for (const g of input.grants) {
    windows[w++] = layout.windowKey(doorNumber(g.door), slotOf(g.schedule ?? null), sourceCode(g.source));
    windows[w++] = g.from;
    windows[w++] = g.to;
  }
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
      windows[w++] = layout.groupWindowKey(g, groups.filterOf(g), standing, GROUP_SOURCE);
      if (!standing) {
        windows[w++] = m.from;
        windows[w++] = m.to;
      }
      windowCount++;
    }
  }
  const cardKeys = into.cardKeys;
  const others = into.others;
  let k = 0;
  let o = 0;
  let activeCards = 0;
  let hasCardRules = false;
  for (const c of input.cards) {
    // NaN would make both comparisons false: a card valid for ever. Refuse it instead.
    if (Number.isNaN(c.validFrom ?? 0) || Number.isNaN(c.validTo ?? 0)) throw new RangeError(`card of person ${input.id}: validity is not a number`);
    if (keys.parse(c.number)) {
      cardKeys[k++] = keys.lo;
      cardKeys[k++] = keys.hi;
    } else others[o++] = c.number;
    if (cardStateOf(c) !== 'active') continue;
    activeCards++;
    if (hasOwnValidity(c)) hasCardRules = true;
  }
  const cards = k / 2;
  if (w >= layout.SPAN_LIMIT || cards >= layout.CARDS_LIMIT) throw new RangeError(`person ${input.id}: too many grants or cards for one record`);
  const validFrom = input.validFrom ?? -Infinity;
  const validTo = input.validTo ?? Infinity;
  if (Number.isNaN(validFrom) || Number.isNaN(validTo)) throw new RangeError(`person ${input.id}: validity is not a number`);
  const hasValidity = validFrom !== -Infinity || validTo !== Infinity;
  const withdrawn = input.cards.length > 0 && activeCards === 0;
  into.windowDoubles = w;
  into.windowCount = windowCount;
  into.cardKeyDoubles = k;
  into.otherCount = o;
  into.flags =
    (input.active ? 1 : 0) +
    2 * w +
    (withdrawn ? layout.WITHDRAWN : 0) +
    (hasValidity ? layout.HAS_VALIDITY : 0) +
    (hasCardRules ? layout.HAS_CARD_RULES : 0) +
    layout.CARDS_SHIFT * cards;
  into.hasValidity = hasValidity;
  into.validFrom = validFrom;
  into.validTo = validTo;
  return into;
}

/** Doubles the planned record takes, with the subject when there is one. */
export function plannedSize(plan: RecordPlan, subject: MemberSubject | null): number {
  return layout.recordSize(plan.windowDoubles, plan.cardKeyDoubles / 2, plan.hasValidity, subject !== null);
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
  for (let i = 0; i < plan.windowDoubles; i++) data[at++] = plan.windows[i]!;
  for (let i = 0; i < plan.cardKeyDoubles; i++) data[at++] = plan.cardKeys[i]!;
  // Last: read only to remove the person, and as raw bits (never through `data`: they may spell a NaN).
  if (subject !== null) {
    words[2 * at] = subject.hi;
    words[2 * at + 1] = subject.lo;
  }
}
