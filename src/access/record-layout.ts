/*
 * The layout of one person's record in the RecordPool, in one place so that the index that
 * writes records and the decision that reads them agree (access-index.ts explains why records
 * are runs of doubles at all):
 *
 *   [ personId, subject (64 raw bits), flags,
 *     validFrom, validTo,                              (only with HAS_VALIDITY)
 *     windowKey, from, to,  windowKey, from, to, ...   (windowCount windows)
 *     lo, hi, lo, hi, ... ]                            (cardCount card keys, for removal)
 *
 * One grant and one card fill 8 doubles, one cache line. The person validity is paid for only
 * by the people who have one; it sits right after the header, so that it and the first window
 * share the first cache line with the header (the card keys, which a decision never reads, go
 * to the second). At the end, behind the card keys, it cost those people a second cache miss
 * per decision: p99 1.08 → 1.23 µs with 10 % of people dated (bench/access-model.ts).
 */

export const HEADER = 3;
export const STRIDE = 3;

/**
 * The flags double (53 bits): bit 0 active, bits 1–22 the window count, bit 23 "has cards,
 * none active" (withdrawn), bit 24 "has a subject", bit 25 "has a validity" (two trailing
 * doubles), bit 26 "one of its active cards has its own validity" (the index's card rules side
 * map), then the card count from bit 27.
 */
export const WINDOWS_LIMIT = 2 ** 22;
export const WITHDRAWN = 2 ** 23;
export const HAS_SUBJECT = 2 ** 24;
export const HAS_VALIDITY = 2 ** 25;
export const HAS_CARD_RULES = 2 ** 26;
export const CARDS_SHIFT = 2 ** 27;
export const CARDS_LIMIT = 2 ** 26;

// No `%` on these doubles: V8 turns a float modulo into a call; floor, multiply and subtract stay inline.
export function windowCount(flags: number): number {
  const half = Math.floor(flags / 2);
  return half - Math.floor(half / WINDOWS_LIMIT) * WINDOWS_LIMIT;
}

export function cardCount(flags: number): number {
  return Math.floor(flags / CARDS_SHIFT);
}

/** `& 1` is exact here: ToInt32 keeps the low bits of any integer below 2^53. */
export function flagSet(flags: number, bit: number): boolean {
  return (Math.floor(flags / bit) & 1) === 1;
}

export function isActive(flags: number): boolean {
  return (flags & 1) === 1;
}

/** Doubles a record takes. */
export function recordSize(windows: number, cards: number, hasValidity: boolean): number {
  return HEADER + STRIDE * windows + 2 * cards + (hasValidity ? 2 : 0);
}

/** Offset of the two validity doubles of a record that has them. */
export function validityOffset(record: number): number {
  return record + HEADER;
}

/** Offset of a record's first window. */
export function windowsAt(record: number, flags: number): number {
  return record + HEADER + (flagSet(flags, HAS_VALIDITY) ? 2 : 0);
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
 * A membership's window names its group instead of a door: key = (GROUP_BASE + group) · 2^24 +
 * source, above every door's range, so the door test of the decision's loop skips it for free
 * and only a key ≥ GROUP_KEY_MIN is looked up in GroupDoors (group-doors.ts). Exact: below 2^53.
 */
const GROUP_BASE = DOOR_LIMIT;
export const GROUP_KEY_MIN = GROUP_BASE * DOOR_UNIT;
export const GROUP_LIMIT = 2 ** 28;

export function groupWindowKey(group: number, source: number): number {
  if (!Number.isInteger(group) || group < 0 || group >= GROUP_LIMIT) throw new RangeError(`group number out of range: ${group}`);
  return (GROUP_BASE + group) * DOOR_UNIT + source;
}

/** The group a key ≥ GROUP_KEY_MIN names. */
export function keyGroup(key: number): number {
  return Math.floor(key / DOOR_UNIT) - GROUP_BASE;
}

export function windowKey(door: number, slot: number, source: number): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_LIMIT) throw new RangeError(`schedule slot out of range: ${slot}`);
  if (door >= DOOR_LIMIT) throw new RangeError('too many doors');
  return door * DOOR_UNIT + slot * 2 ** SOURCE_BITS + source;
}

/** The slot and source part of a key (below DOOR_UNIT, an int32). */
export function keyRest(key: number): number {
  return key - Math.floor(key / DOOR_UNIT) * DOOR_UNIT;
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
