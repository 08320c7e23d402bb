/**
 * Card number → a non-negative integer (an index record offset), kept in one flat typed array
 * so that a lookup costs about one cache miss instead of the four or five of a JS Map with
 * string keys (hash bucket, entry, key string, value object). That matters while a platform
 * sync churns the caches: a badge decision then pays for every pointer it follows.
 *
 * Canonical card numbers (src/readers/card-formats.ts) are decimal strings. Those of up to 15
 * digits without a leading zero are exactly representable as doubles and are stored as their
 * value; every other string (longer numbers, anything non-canonical) goes to a plain Map, so
 * the table keeps exact string-equality semantics for any key.
 *
 * Open addressing with linear probing, load ≤ 1/2, deletion by backward shift (no tombstones,
 * so a long-running gateway never degrades). The hash is seeded per instance so that a card
 * population cannot be chosen to collide.
 */

const EMPTY = -1;
const MIN_SLOTS = 16;
/** Largest decimal length that is always below 2^53 (999,999,999,999,999 < 9.007e15). */
const MAX_NUMERIC_DIGITS = 15;

/** The card's value when it is a canonical decimal of ≤ 15 digits, else -1. */
export function numericCardKey(card: string): number {
  const n = card.length;
  if (n === 0 || n > MAX_NUMERIC_DIGITS) return -1;
  const first = card.charCodeAt(0);
  if (first === 48 /* 0 */ && n > 1) return -1;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const d = card.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

export class CardTable {
  /** Interleaved [key, value] pairs; key EMPTY marks a free slot. */
  private slots: Float64Array;
  private mask: number;
  private used = 0;
  private readonly other = new Map<string, number>();
  private readonly seed: number;

  constructor(seed: number = (Math.random() * 0x1_0000_0000) >>> 0) {
    this.seed = seed | 1;
    this.slots = new Float64Array(MIN_SLOTS * 2).fill(EMPTY);
    this.mask = MIN_SLOTS - 1;
  }

  get size(): number {
    return this.used + this.other.size;
  }

  /** The value stored for the card, or -1. */
  get(card: string): number {
    const key = numericCardKey(card);
    if (key < 0) return this.other.get(card) ?? -1;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const k = slots[2 * i]!;
      if (k === key) return slots[2 * i + 1]!;
      if (k === EMPTY) return -1;
    }
  }

  /** Stores a non-negative value for the card, replacing any earlier one. */
  set(card: string, value: number): void {
    const key = numericCardKey(card);
    if (key < 0) {
      this.other.set(card, value);
      return;
    }
    if ((this.used + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    if (this.insert(key, value)) this.used++;
  }

  delete(card: string): boolean {
    const key = numericCardKey(card);
    if (key < 0) return this.other.delete(card);
    const slots = this.slots;
    const mask = this.mask;
    let i = this.home(key);
    for (; ; i = (i + 1) & mask) {
      const k = slots[2 * i]!;
      if (k === key) break;
      if (k === EMPTY) return false;
    }
    // Backward shift: pull later entries of the cluster into the hole when their home allows.
    let hole = i;
    for (let j = (i + 1) & mask; slots[2 * j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.home(slots[2 * j]!);
      // j's entry may move to the hole unless its home lies cyclically in (hole, j].
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        slots[2 * hole] = slots[2 * j]!;
        slots[2 * hole + 1] = slots[2 * j + 1]!;
        hole = j;
      }
    }
    slots[2 * hole] = EMPTY;
    slots[2 * hole + 1] = 0;
    this.used--;
    return true;
  }

  clear(): void {
    this.slots = new Float64Array(MIN_SLOTS * 2).fill(EMPTY);
    this.mask = MIN_SLOTS - 1;
    this.used = 0;
    this.other.clear();
  }

  /** Slot a key starts probing from: a 32-bit mix of both halves of the value, then masked. */
  private home(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 0x1_0000_0000) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), this.seed);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** True when the key was new. */
  private insert(key: number, value: number): boolean {
    const slots = this.slots;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = slots[2 * i]!;
      if (k === key || k === EMPTY) {
        slots[2 * i] = key;
        slots[2 * i + 1] = value;
        return k === EMPTY;
      }
    }
  }

  private resize(slotCount: number): void {
    const old = this.slots;
    this.slots = new Float64Array(slotCount * 2).fill(EMPTY);
    this.mask = slotCount - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== EMPTY) this.insert(old[i]!, old[i + 1]!);
  }
}
