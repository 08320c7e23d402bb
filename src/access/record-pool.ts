/**
 * Blocks of doubles in one growable Float64Array, handed out in power-of-two sizes (at least
 * 8 doubles, one cache line) and recycled through per-size free lists. The access index keeps
 * each person's record here: outside the V8 heap's object graph, so the garbage collector
 * neither scans nor moves it, and a record is one contiguous run of memory.
 *
 * A block's offset stays valid until it is freed or the pool grows; growing copies the array
 * (amortised, and only while the population grows), so callers hold offsets, never views.
 */

const MIN_BLOCK = 8;
const INITIAL_DOUBLES = 1 << 14;

export interface RecordPoolState {
  data: Float64Array<ArrayBuffer>;
  freeLists: number[][];
}

export class RecordPool {
  private buffer = new Float64Array(INITIAL_DOUBLES);
  private wordView = new Uint32Array(this.buffer.buffer);
  private top = 0;
  /** freeLists[k]: offsets of free blocks of 2^k doubles. */
  private readonly freeLists: number[][] = [];

  /** The backing array; re-read it after every alloc (growth replaces it). */
  get data(): Float64Array {
    return this.buffer;
  }

  /** Doubles a request of `n` occupies. */
  static blockSize(n: number): number {
    return n <= MIN_BLOCK ? MIN_BLOCK : 2 ** Math.ceil(Math.log2(n));
  }

  /**
   * The same memory as 32-bit words (double `i` is words `2i` and `2i + 1`), for a record
   * field that holds 64 raw bits rather than a number. Such a double is never read through
   * `data` (its bits may spell a NaN); growth copies doubles byte for byte, so they survive it.
   * Re-read it after every alloc, like `data`.
   */
  get words(): Uint32Array {
    return this.wordView;
  }

  /** Offset of a block with room for `n` doubles (contents unspecified). */
  alloc(n: number): number {
    const size = RecordPool.blockSize(n);
    const reused = this.freeLists[Math.log2(size)]?.pop();
    if (reused !== undefined) return reused;
    if (this.top + size > this.buffer.length) this.grow(this.top + size);
    const offset = this.top;
    this.top += size;
    return offset;
  }

  /** Grows the array now to hold `doubles` in all, so a bulk load does not double it step by step. */
  reserve(doubles: number): void {
    if (doubles > this.buffer.length) this.grow(doubles);
  }

  /** Returns the block at `offset`, which was allocated for `n` doubles. */
  free(offset: number, n: number): void {
    const k = Math.log2(RecordPool.blockSize(n));
    (this.freeLists[k] ??= []).push(offset);
  }

  /** The blocks handed out (data up to top) and the free lists, for an index snapshot. */
  exportState(): RecordPoolState {
    // Array.from, not map: the lists are sparse (only the sizes ever freed), and map keeps the holes.
    return { data: this.buffer.subarray(0, this.top), freeLists: Array.from(this.freeLists, (list) => (list === undefined ? [] : [...list])) };
  }

  /** `data` may be longer than the blocks it holds (`top`): the rest is room to grow into. */
  importState(data: Float64Array<ArrayBuffer>, top: number, freeLists: number[][]): void {
    if (top > data.length) throw new RangeError('record pool state: top beyond the data');
    this.buffer = data;
    this.wordView = new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
    this.top = top;
    this.freeLists.length = 0;
    freeLists.forEach((list, k) => {
      if (list.length > 0) this.freeLists[k] = [...list];
    });
  }

  clear(): void {
    this.buffer = new Float64Array(INITIAL_DOUBLES);
    this.wordView = new Uint32Array(this.buffer.buffer);
    this.top = 0;
    this.freeLists.length = 0;
  }

  /** Doubles handed out and not yet freed, for stats and tests. */
  inUse(): number {
    let free = 0;
    this.freeLists.forEach((list, k) => (free += list.length * 2 ** k));
    return this.top - free;
  }

  private grow(needed: number): void {
    let length = this.buffer.length * 2;
    while (length < needed) length *= 2;
    const next = new Float64Array(length);
    next.set(this.buffer.subarray(0, this.top)); // same element type: a byte copy (spec), NaN bits kept
    this.buffer = next;
    this.wordView = new Uint32Array(next.buffer);
  }
}
