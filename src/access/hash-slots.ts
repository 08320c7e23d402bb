/**
 * The open-addressing hash table inside CardTable, one per table (two while it grows):
 * linear probing, load ≤ 1/2 (the caller keeps it), deletion by backward shift (no tombstones,
 * so a long-running gateway never degrades). The hash is seeded per instance so that a card
 * population cannot be chosen to collide.
 */

/** Slot layout in `slots`: [used, lo, hi, value], 16 bytes, four slots per cache line. */
const STRIDE = 4;
// Exported under its own name so that the probe loops keep reading the module-local literal.
export const SLOT_STRIDE = STRIDE;

/** One open-addressing table over a flat Uint32Array. */
export class HashSlots {
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
