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
 *
 * Growing never stops the loop. Rehashing a million entries in one go took ~90 ms inside the
 * put that crossed the threshold (a card import into a running gateway stalled every reader
 * that long). Instead the full table becomes `old`, a table twice its size becomes `cur`, and
 * every later set or delete first moves MIGRATE_STEP slots of `old` across; lookups ask `cur`,
 * then `old`. Migration takes slots from the front of `old` and removes them there, so every
 * slot below the cursor is empty and a backward shift can never carry an entry behind it.
 * With 2 slots moved per insert at least, `old` is empty before `cur` reaches its own limit.
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

/** Slots of `old` moved to `cur` per set or delete while the table grows (a few µs). */
export const MIGRATE_STEP = 64;

/** One open-addressing table over a flat Uint32Array. */
class Slots {
  readonly slots: Uint32Array<ArrayBuffer>;
  readonly mask: number;
  used = 0;

  constructor(
    slotCount: number,
    private readonly seed: number,
    slots?: Uint32Array<ArrayBuffer>,
  ) {
    this.slots = slots ?? new Uint32Array(slotCount * STRIDE);
    this.mask = slotCount - 1;
  }

  get slotCount(): number {
    return this.mask + 1;
  }

  /** The slot holding the key, or -1: linear probing from its home up to the first free slot. */
  find(lo: number, hi: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = this.home(lo, hi); ; i = (i + 1) & mask) {
      const at = i * STRIDE;
      if (slots[at] === 0) return -1;
      if (slots[at + 1] === lo && slots[at + 2] === hi) return i;
    }
  }

  get(lo: number, hi: number): number {
    const i = this.find(lo, hi);
    return i < 0 ? -1 : this.slots[i * STRIDE + 3]!;
  }

  /** True when the key was new. The caller keeps load ≤ 1/2. */
  insert(lo: number, hi: number, value: number): boolean {
    const slots = this.slots;
    for (let i = this.home(lo, hi); ; i = (i + 1) & this.mask) {
      const at = i * STRIDE;
      const isNew = slots[at] === 0;
      if (isNew || (slots[at + 1] === lo && slots[at + 2] === hi)) {
        slots[at] = 1;
        slots[at + 1] = lo;
        slots[at + 2] = hi;
        slots[at + 3] = value;
        if (isNew) this.used++;
        return isNew;
      }
    }
  }

  delete(lo: number, hi: number): boolean {
    const i = this.find(lo, hi);
    if (i < 0) return false;
    this.deleteAt(i);
    return true;
  }

  /** Backward shift: pull later entries of the cluster into the hole when their home allows. */
  deleteAt(i: number): void {
    const slots = this.slots;
    const mask = this.mask;
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
  }

  /** Slot a key starts probing from: a seeded 32-bit mix of both halves, then masked. */
  private home(lo: number, hi: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), this.seed);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h & this.mask;
  }
}

export class CardTable {
  private cur: Slots;
  /** The table being emptied into `cur` while the table grows; null otherwise. */
  private old: Slots | null = null;
  /** Slots of `old` below this are empty. */
  private cursor = 0;
  private other = new Map<string, number>();
  private seed: number;
  private readonly key = new KeyParser();

  constructor(seed: number = (Math.random() * TWO_32) >>> 0) {
    this.seed = seed | 1;
    this.cur = new Slots(MIN_SLOTS, this.seed);
  }

  get size(): number {
    return this.used + this.other.size;
  }

  private get used(): number {
    return this.cur.used + (this.old?.used ?? 0);
  }

  /** Bytes of slot arrays held (both tables while growing). */
  get bytes(): number {
    return this.cur.slots.byteLength + (this.old?.slots.byteLength ?? 0);
  }

  /** Entries still in the table being migrated away (0 when not growing), for tests and stats. */
  get migrating(): number {
    return this.old?.used ?? 0;
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
    const v = this.cur.get(lo, hi);
    return v >= 0 || this.old === null ? v : this.old.get(lo, hi);
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
    if ((this.cur.used + 1) * 2 > this.cur.slotCount) this.startGrowth();
    if (this.old !== null) {
      this.migrate(MIGRATE_STEP);
      this.old?.delete(lo, hi); // a key lives in one table only: cur, from its next set on
    }
    this.cur.insert(lo, hi, value);
  }

  delete(card: string): boolean {
    const key = this.key;
    if (!key.parse(card)) return this.other.delete(card);
    return this.deleteKey(key.lo, key.hi);
  }

  deleteKey(lo: number, hi: number): boolean {
    if (this.old !== null) this.migrate(MIGRATE_STEP);
    return this.cur.delete(lo, hi) || (this.old?.delete(lo, hi) ?? false);
  }

  /** Grows the table now to hold `keys` entries (a bulk load at start; never shrinks it). */
  reserve(keys: number): void {
    this.finishGrowth();
    let slots = this.cur.slotCount;
    while ((keys + 1) * 2 > slots) slots *= 2;
    if (slots > this.cur.slotCount) {
      this.old = this.cur;
      this.cursor = 0;
      this.cur = new Slots(slots, this.seed);
      this.finishGrowth();
    }
  }

  /** Everything the table holds, for an index snapshot (index-state.ts); the arrays are the table's own, not copies. */
  exportState(): CardTableState {
    this.finishGrowth(); // a snapshot is written at a clean stop: one table, whatever it costs
    return { seed: this.seed, used: this.cur.used, slots: this.cur.slots, other: [...this.other] };
  }

  /** Takes over a state exportState produced (the snapshot's checksum vouches for its contents). */
  importState(state: CardTableState): void {
    const count = state.slots.length / STRIDE;
    if (!Number.isInteger(count) || count < MIN_SLOTS || (count & (count - 1)) !== 0 || state.used * 2 > count) {
      throw new RangeError('card table state: bad slot count');
    }
    this.seed = state.seed | 1;
    this.cur = new Slots(count, this.seed, state.slots);
    this.cur.used = state.used;
    this.old = null;
    this.cursor = 0;
    this.other = new Map(state.other);
  }

  clear(): void {
    this.cur = new Slots(MIN_SLOTS, this.seed);
    this.old = null;
    this.cursor = 0;
    this.other.clear();
  }

  private startGrowth(): void {
    this.finishGrowth(); // never two growths at once (cannot happen with MIGRATE_STEP ≥ 2)
    this.old = this.cur;
    this.cursor = 0;
    this.cur = new Slots(this.cur.slotCount * 2, this.seed);
  }

  private finishGrowth(): void {
    while (this.old !== null) this.migrate(Number.MAX_SAFE_INTEGER);
  }

  /** Moves up to `budget` slots of `old` into `cur`, taking them from the front. */
  private migrate(budget: number): void {
    const old = this.old!;
    const slots = old.slots;
    const count = old.slotCount;
    for (let n = 0; n < budget && this.cursor < count; n++) {
      const at = this.cursor * STRIDE;
      if (slots[at] === 0) {
        this.cursor++;
        continue;
      }
      const lo = slots[at + 1]!;
      const hi = slots[at + 2]!;
      const value = slots[at + 3]!;
      old.deleteAt(this.cursor); // may pull a later entry into this slot: looked at next round
      this.cur.insert(lo, hi, value);
    }
    if (this.cursor >= count) {
      if (old.used !== 0) throw new Error(`card table growth left ${old.used} entries behind`);
      this.old = null;
      this.cursor = 0;
    }
  }
}
