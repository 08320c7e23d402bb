/*
 * The layout of one person's record in the RecordPool, in one place so that the index that
 * writes records and the decision that reads them agree (access-index.ts explains why records
 * are runs of doubles at all):
 *
 *   [ personId, flags,
 *     validFrom, validTo,                              (only with HAS_VALIDITY)
 *     windows: key, from, to  (a door's, or a bounded membership's)
 *              key            (a standing membership: no bounds to store)
 *     lo, hi, lo, hi, ...                              (cardCount card keys, for removal)
 *     subject (64 raw bits) ]                          (only with HAS_SUBJECT, for removal)
 *
 * Everything a decision reads comes first, so that the common record is read in one cache line:
 * one grant, one standing membership and one card fill 8 doubles (2 + 3 + 1 + 2), and with a
 * validity the windows still start on the first line. Before (subject in the header, three
 * doubles a membership) a member's record took 11 doubles in a 16-double block and its
 * membership's bounds sat on the second line; the person validity at the end, behind the card
 * keys, had cost those people a second miss too (p99 1.08 → 1.23 µs, bench/access-model.ts).
 * The card keys and the subject are read only to remove the person.
 */

export const HEADER = 2;
export const STRIDE = 3;

/**
 * The flags double (53 bits): bit 0 active, bits 1–22 the doubles the windows take (their
 * span), bit 23 "has cards, none active" (withdrawn), bit 24 "has a subject" (one trailing
 * double), bit 25 "has a validity" (two doubles after the header), bit 26 "one of its active
 * cards has its own validity" (the index's card rules side map), then the card count from bit 27.
 */
export const SPAN_LIMIT = 2 ** 22;
export const WITHDRAWN = 2 ** 23;
export const HAS_SUBJECT = 2 ** 24;
export const HAS_VALIDITY = 2 ** 25;
export const HAS_CARD_RULES = 2 ** 26;
export const CARDS_SHIFT = 2 ** 27;
export const CARDS_LIMIT = 2 ** 26;

/*
 * Bit tests as int32 operations: ToInt32 of an integer double below 2^53 is its low 32 bits,
 * exactly (the spec's modulo 2^32), and V8 does it inline with one truncating conversion. The
 * earlier Math.floor(flags / bit) & 1 paid a float division (~13 cycles) per test, four tests a
 * decision. The card count (above bit 31) is read with a division, only on the write path.
 */
export function windowSpan(flags: number): number {
  return (flags >>> 1) & (SPAN_LIMIT - 1);
}

export function cardCount(flags: number): number {
  return Math.floor(flags / CARDS_SHIFT);
}

/** For the single-bit flags above (all below 2^31). */
export function flagSet(flags: number, bit: number): boolean {
  return (flags & bit) !== 0;
}

export function isActive(flags: number): boolean {
  return (flags & 1) === 1;
}

/** Doubles a record takes. */
export function recordSize(span: number, cards: number, hasValidity: boolean, hasSubject: boolean): number {
  return HEADER + (hasValidity ? 2 : 0) + span + 2 * cards + (hasSubject ? 1 : 0);
}

/** Offset of the two validity doubles of a record that has them. */
export function validityOffset(record: number): number {
  return record + HEADER;
}

/** Offset of a record's first window. */
export function windowsAt(record: number, flags: number): number {
  return record + HEADER + ((flags & HAS_VALIDITY) !== 0 ? 2 : 0);
}

/** Offset of the subject double of a record with HAS_SUBJECT. */
export function subjectAt(record: number, flags: number): number {
  return windowsAt(record, flags) + windowSpan(flags) + 2 * cardCount(flags);
}

/*
 * A window's key: door number, schedule slot and source code in one double,
 *
 *   key = door · 2^24 + slot · 2^4 + source        (slot < 2^20, source < 2^4, door < 2^28)
 *
 * Door in the high part so that "is this window for door d" is two comparisons against
 * [d · 2^24, (d + 1) · 2^24), no division on the badge path; the slot and source are
 * unpacked (key − d · 2^24, then integer shifts) only for a window of the right door.
 */
export const DOOR_UNIT = 2 ** 24;
export const SLOT_LIMIT = 2 ** 20;
export const DOOR_LIMIT = 2 ** 28;
const SOURCE_BITS = 4;

/*
 * A membership's window names its group instead of a door, above every door's range, so the
 * door test of the decision's loop skips it for free:
 *
 *   key = 2^52 + standing · 2^51 + group · 2^24 + doorFilter · 2^4 + source
 *
 * `group` is the group's offset in GroupDoors' table (group-doors.ts), so that the group's doors
 * are one read away. `standing`: the membership has no bounds (−∞, +∞), the common case, and the
 * window is this one double; otherwise its from and to follow as for a door's window. The door
 * filter has bit (door mod 20) set for each door the group reaches: a decision at a door whose
 * bit is clear skips the group without reading its table, which a million random decisions evict
 * from the caches (most decisions at a member's door are for a door their group does not have).
 * It is exact on sites of up to 20 doors. All exact in doubles: below 2^53.
 */
export const GROUP_KEY_MIN = 2 ** 52;
export const STANDING_KEY_MIN = GROUP_KEY_MIN + 2 ** 51;
export const GROUP_LIMIT = 2 ** 27;
export const FILTER_BITS = 20;

/** The filter bit of `door` as it sits in a group key's low 32 bits. */
export function doorFilterBit(door: number): number {
  return 1 << (SOURCE_BITS + (door % FILTER_BITS));
}

export function groupWindowKey(group: number, filter: number, standing: boolean, source: number): number {
  if (!Number.isInteger(group) || group < 0 || group >= GROUP_LIMIT) throw new RangeError(`group number out of range: ${group}`);
  return GROUP_KEY_MIN + (standing ? 2 ** 51 : 0) + group * DOOR_UNIT + (filter & (2 ** FILTER_BITS - 1)) * 2 ** SOURCE_BITS + source;
}

/** The filter bits (0 … 2^20 − 1) for a group reaching these door numbers. */
export function doorFilter(doors: Iterable<number>): number {
  let filter = 0;
  for (const door of doors) filter |= 1 << (door % FILTER_BITS);
  return filter;
}

/** Doubles the window whose key this is takes. */
export function windowSize(key: number): number {
  return key >= STANDING_KEY_MIN ? 1 : STRIDE;
}

/** The group (its GroupDoors offset) a key ≥ GROUP_KEY_MIN names. */
export function keyGroup(key: number): number {
  return Math.floor((key - (key >= STANDING_KEY_MIN ? STANDING_KEY_MIN : GROUP_KEY_MIN)) / DOOR_UNIT);
}

export function windowKey(door: number, slot: number, source: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_LIMIT) throw new RangeError(`schedule slot out of range: ${slot}`);
  if (door >= DOOR_LIMIT) throw new RangeError('too many doors');
  return door * DOOR_UNIT + slot * 2 ** SOURCE_BITS + source;
}

/** The slot and source part of a key (below DOOR_UNIT, an int32): its low 24 bits, exact (see flagSet). */
export function keyRest(key: number): number {
  return key & (DOOR_UNIT - 1);
}

export function restSlot(rest: number): number {
  return rest >>> SOURCE_BITS;
}

export function restSource(rest: number): number {
  return rest & ((1 << SOURCE_BITS) - 1);
}

export function keyDoor(key: number): number {
  return Math.floor(key / DOOR_UNIT);
}
