/**
 * Card number → a non-negative 32-bit integer (an index record offset), kept in one flat typed
 * array so that a lookup costs about one cache miss instead of the four or five of a JS Map
 * with string keys (hash bucket, entry, key string, value object). That matters while a
 * platform sync churns the caches: a badge decision then pays for every pointer it follows.
 *
 * Canonical card numbers (src/readers/card-formats.ts) are decimal strings. Those below 2^64
 * without a leading zero (every Wiegand format, 4-, 7- and 8-byte UIDs) are stored as the two
 * 32-bit halves of their value; every other string (longer numbers, anything non-canonical)
 * goes to a plain Map, so the table keeps exact string-equality semantics for any key.
 *
 * Open addressing with linear probing, load ≤ 1/2, deletion by backward shift (no tombstones,
 * so a long-running gateway never degrades). The hash is seeded per instance so that a card
 * population cannot be chosen to collide.
 */

/** Slot layout in `slots`: [used, lo, hi, value], 16 bytes, four slots per cache line. */
const STRIDE = 4;
const MIN_SLOTS = 16;
const MAX_DIGITS = 20; // 2^64 - 1 has 20 digits
const TWO_32 = 0x1_0000_0000;

/** The 32-bit halves [lo, hi] of a canonical decimal below 2^64, or null for any other string. */
export function cardKeyParts(card: string): [number, number] | null {
  const parser = new KeyParser();
  return parser.parse(card) ? [parser.lo, parser.hi] : null;
}

/** The canonical decimal whose value has these 32-bit halves (inverse of cardKeyParts). */
export function cardFromKeyParts(lo: number, hi: number): string {
  const value = hi * TWO_32 + lo;
  return Number.isSafeInteger(value) ? String(value) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Decimal → two 32-bit limbs without allocating (fields, not a returned pair). */
class KeyParser {
  lo = 0;
  hi = 0;

  parse(card: string): boolean {
    const n = card.length;
    if (n === 0 || n > MAX_DIGITS) return false;
    if (n > 1 && card.charCodeAt(0) === 48 /* 0 */) return false;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const d = card.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      // Exact in doubles: lo < 2^32, so lo * 10 + 9 < 2^36; hi stays below 2^36 until the check.
      const wide = lo * 10 + d;
      const carry = Math.floor(wide / TWO_32);
      lo = wide - carry * TWO_32;
      hi = hi * 10 + carry;
      if (hi >= TWO_32) return false;
    }
    this.lo = lo;
    this.hi = hi;
    return true;
  }
}

export interface CardTableState {
  seed: number;
  used: number;
  slots: Uint32Array<ArrayBuffer>;
  other: [string, number][];
}

export class CardTable {
  private slots = new Uint32Array(MIN_SLOTS * STRIDE);
  private mask = MIN_SLOTS - 1;
  private used = 0;
  private other = new Map<string, number>();
  private seed: number;
  private readonly key = new KeyParser();

  constructor(seed: number = (Math.random() * TWO_32) >>> 0) {
    this.seed = seed | 1;
  }

  get size(): number {
    return this.used + this.other.size;
  }

  /** The value stored for the card, or -1. */
  get(card: string): number {
    const key = this.key;
    if (!key.parse(card)) return this.other.get(card) ?? -1;
    return this.getKey(key.lo, key.hi);
  }

  /**
   * The same table keyed by a 64-bit value given as its 32-bit halves (the index's member
   * subjects use it). The card methods above are these with the card's value as the key.
   */
  getKey(lo: number, hi: number): number {
    const i = this.find(lo, hi);
    return i < 0 ? -1 : this.slots[i * STRIDE + 3]!;
  }

  /** Stores a value (an integer from 0 to 2^32 - 1) for the card, replacing any earlier one. */
  set(card: string, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value >= TWO_32) throw new RangeError(`card table value out of range: ${value}`);
    const key = this.key;
    if (!key.parse(card)) {
      this.other.set(card, value);
      return;
    }
    this.setKey(key.lo, key.hi, value);
  }

  /** Halves must be unsigned 32-bit integers (as Buffer.readUInt32BE gives them). */
  setKey(lo: number, hi: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value >= TWO_32) throw new RangeError(`card table value out of range: ${value}`);
    if ((this.used + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    if (this.insert(lo, hi, value)) this.used++;
  }

  delete(card: string): boolean {
    const key = this.key;
    if (!key.parse(card)) return this.other.delete(card);
    return this.deleteKey(key.lo, key.hi);
  }

  deleteKey(lo: number, hi: number): boolean {
    const i = this.find(lo, hi);
    if (i < 0) return false;
    const slots = this.slots;
    const mask = this.mask;
    // Backward shift: pull later entries of the cluster into the hole when their home allows.
    let hole = i;
    for (let j = (i + 1) & mask; slots[j * STRIDE] !== 0; j = (j + 1) & mask) {
      const home = this.home(slots[j * STRIDE + 1]!, slots[j * STRIDE + 2]!);
      // j's entry may move to the hole unless its home lies cyclically in (hole, j].
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (movable) {
        slots.copyWithin(hole * STRIDE, j * STRIDE, j * STRIDE + STRIDE);
        hole = j;
      }
    }
    slots.fill(0, hole * STRIDE, hole * STRIDE + STRIDE);
    this.used--;
    return true;
  }

  /** The slot holding the key, or -1: linear probing from its home up to the first free slot. */
  private find(lo: number, hi: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.home(lo, hi); ; i = (i + 1) & mask) {
      const at = i * STRIDE;
      if (slots[at] === 0) return -1;
      if (slots[at + 1] === lo && slots[at + 2] === hi) return i;
    }
  }

  /** Grows the table now to hold `keys` entries without a resize (never shrinks it). */
  reserve(keys: number): void {
    let slots = this.mask + 1;
    while ((keys + 1) * 2 > slots) slots *= 2;
    if (slots > this.mask + 1) this.resize(slots);
  }

  /** Everything the table holds, for an index snapshot (index-state.ts); the arrays are the table's own, not copies. */
  exportState(): CardTableState {
    return { seed: this.seed, used: this.used, slots: this.slots, other: [...this.other] };
  }

  /** Takes over a state exportState produced (the snapshot's checksum vouches for its contents). */
  importState(state: CardTableState): void {
    const count = state.slots.length / STRIDE;
    if (!Number.isInteger(count) || count < MIN_SLOTS || (count & (count - 1)) !== 0 || state.used * 2 > count) {
      throw new RangeError('card table state: bad slot count');
    }
    this.seed = state.seed | 1;
    this.slots = state.slots;
    this.mask = count - 1;
    this.used = state.used;
    this.other = new Map(state.other);
  }

  clear(): void {
    this.slots = new Uint32Array(MIN_SLOTS * STRIDE);
    this.mask = MIN_SLOTS - 1;
    this.used = 0;
    this.other.clear();
  }

  /** Slot a key starts probing from: a seeded 32-bit mix of both halves, then masked. */
  private home(lo: number, hi: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), this.seed);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** True when the key was new. */
  private insert(lo: number, hi: number, value: number): boolean {
    const slots = this.slots;
    for (let i = this.home(lo, hi); ; i = (i + 1) & this.mask) {
      const at = i * STRIDE;
      const isNew = slots[at] === 0;
      if (isNew || (slots[at + 1] === lo && slots[at + 2] === hi)) {
        slots[at] = 1;
        slots[at + 1] = lo;
        slots[at + 2] = hi;
        slots[at + 3] = value;
        return isNew;
      }
    }
  }

  private resize(slotCount: number): void {
    const old = this.slots;
    this.slots = new Uint32Array(slotCount * STRIDE);
    this.mask = slotCount - 1;
    for (let at = 0; at < old.length; at += STRIDE) if (old[at] !== 0) this.insert(old[at + 1]!, old[at + 2]!, old[at + 3]!);
  }
}
