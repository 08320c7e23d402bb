import { KeyParser } from './card-keys.js';
import { HashSlots, SLOT_STRIDE as STRIDE } from './hash-slots.js';

/**
 * Card number → a non-negative 32-bit integer (an index record offset), kept in one flat typed
 * array so that a lookup costs about one cache miss instead of the four or five of a JS Map
 * with string keys (hash bucket, entry, key string, value object). That matters while a
 * platform sync churns the caches: a badge decision then pays for every pointer it follows.
 *
 * A canonical decimal below 2^64 is stored as the two 32-bit halves of its value (card-keys.ts)
 * in an open-addressing table (hash-slots.ts); any other string goes to a plain Map, so the
 * table keeps exact string-equality semantics for any key.
 *
 * Growing never stops the loop. Rehashing a million entries in one go took ~90 ms inside the
 * put that crossed the threshold (a card import into a running gateway stalled every reader
 * that long). Instead the full table becomes `old`, a table twice its size becomes `cur`, and
 * every later set or delete first moves MIGRATE_STEP slots of `old` across; lookups ask `cur`,
 * then `old`. Migration takes slots from the front of `old` and removes them there, so every
 * slot below the cursor is empty and a backward shift can never carry an entry behind it.
 * With 2 slots moved per insert at least, `old` is empty before `cur` reaches its own limit.
 */

const MIN_SLOTS = 16;
const TWO_32 = 0x1_0000_0000;

export interface CardTableState {
  seed: number;
  used: number;
  slots: Uint32Array<ArrayBuffer>;
  other: [string, number][];
}

/** Slots of `old` moved to `cur` per set or delete while the table grows (a few µs). */
export const MIGRATE_STEP = 64;

export class CardTable {
  private cur: HashSlots;
  /** The table being emptied into `cur` while the table grows; null otherwise. */
  private old: HashSlots | null = null;
  /** Slots of `old` below this are empty. */
  private cursor = 0;
  private other = new Map<string, number>();
  private seed: number;
  private readonly key = new KeyParser();

  constructor(seed: number = (Math.random() * TWO_32) >>> 0) {
    this.seed = seed | 1;
    this.cur = new HashSlots(MIN_SLOTS, this.seed);
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
      this.cur = new HashSlots(slots, this.seed);
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
    this.cur = new HashSlots(count, this.seed, state.slots);
    this.cur.used = state.used;
    this.old = null;
    this.cursor = 0;
    this.other = new Map(state.other);
  }

  clear(): void {
    this.cur = new HashSlots(MIN_SLOTS, this.seed);
    this.old = null;
    this.cursor = 0;
    this.other.clear();
  }

  private startGrowth(): void {
    this.finishGrowth(); // never two growths at once (cannot happen with MIGRATE_STEP ≥ 2)
    this.old = this.cur;
    this.cursor = 0;
    this.cur = new HashSlots(this.cur.slotCount * 2, this.seed);
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
