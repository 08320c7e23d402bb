/**
 * Person id → the offset of that person's record in the pool, as a Map would hold it, in
 * pages of Int32Array indexed by the id (SQLite row ids: small, dense, positive integers).
 * Why not a Map: V8 grows a Map by rehashing all of it inside the set that fills it, 58 ms at
 * 1,048,577 people, and deletes leave holes that bring that rehash sooner; one such set during
 * a card import stalled every reader. A page is added when an id first lands in it (256 KiB,
 * filled in well under a millisecond); nothing is ever copied. Ids a page cannot hold (negative,
 * fractional, ≥ 2^31) and offsets ≥ 2^31 go to a plain Map, so any number still works.
 */

const PAGE_BITS = 16;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;
const MAX_PAGED = 0x7fffffff;
const EMPTY = -1;

const paged = (id: number, offset?: number) =>
  Number.isInteger(id) && id >= 0 && id <= MAX_PAGED && (offset === undefined || (Number.isInteger(offset) && offset >= 0 && offset <= MAX_PAGED));

export class PersonRecords {
  private pages: (Int32Array | undefined)[] = [];
  private readonly overflow = new Map<number, number>();
  private count = 0;

  /** Bytes of pages held. */
  get bytes(): number {
    let n = 0;
    for (const page of this.pages) if (page !== undefined) n += page.byteLength;
    return n;
  }

  get size(): number {
    return this.count + this.overflow.size;
  }

  get(id: number): number | undefined {
    if (!paged(id)) return this.overflow.get(id);
    const v = this.pages[id >>> PAGE_BITS]?.[id & PAGE_MASK];
    return v === undefined || v === EMPTY ? this.overflow.get(id) : v;
  }

  set(id: number, offset: number): void {
    if (!paged(id, offset)) {
      this.delete(id); // the id may have a paged entry from before: one place per id
      this.overflow.set(id, offset);
      return;
    }
    this.overflow.delete(id);
    const p = id >>> PAGE_BITS;
    const page = (this.pages[p] ??= new Int32Array(PAGE_SIZE).fill(EMPTY));
    if (page[id & PAGE_MASK] === EMPTY) this.count++;
    page[id & PAGE_MASK] = offset;
  }

  delete(id: number): boolean {
    if (paged(id)) {
      const page = this.pages[id >>> PAGE_BITS];
      if (page !== undefined && page[id & PAGE_MASK] !== EMPTY) {
        page[id & PAGE_MASK] = EMPTY;
        this.count--;
        return true;
      }
    }
    return this.overflow.delete(id);
  }

  clear(): void {
    this.pages = [];
    this.overflow.clear();
    this.count = 0;
  }

  /** [id, offset] for every person, paged ids in ascending order, then the others. */
  *[Symbol.iterator](): IterableIterator<[number, number]> {
    for (let p = 0; p < this.pages.length; p++) {
      const page = this.pages[p];
      if (page === undefined) continue;
      for (let i = 0; i < PAGE_SIZE; i++) if (page[i] !== EMPTY) yield [p * PAGE_SIZE + i, page[i]!];
    }
    yield* this.overflow;
  }
}
