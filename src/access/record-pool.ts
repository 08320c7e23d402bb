/**
 * Blocks of doubles in one growable Float64Array, handed out in power-of-two sizes (at least
 * 8 doubles, one cache line) and recycled through per-size free lists. The access index keeps
 * each person's record here: outside the V8 heap's object graph, so the garbage collector
 * neither scans nor moves it, and a record is one contiguous run of memory.
 *
 * A block's offset stays valid until it is freed; callers hold offsets, never views.
 *
 * Growing never copies. The array lives in a resizable ArrayBuffer with address space reserved
 * up to MAX_DOUBLES; growing commits more of it in place (~5 ms for 64 MB of new pages). Doubling
 * a plain Float64Array instead copied it whole inside the put that needed room: 43 ms at a
 * million people, one of the stalls a card import into a running gateway caused. `data` and
 * `words` track the buffer's length, so a view read before a growth stays valid after it.
 */

const MIN_BLOCK = 8;
const INITIAL_DOUBLES = 1 << 14;
/** Address space only (nothing is committed until used): 2^28 doubles, 2 GiB, ~25M people. */
const MAX_DOUBLES = 2 ** 28;

/** ES2024's resizable ArrayBuffer (Node 20, V8 11.3), typed here since the project's lib is ES2023. */
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
  readonly maxByteLength: number;
}

function resizable(doubles: number): ResizableArrayBuffer {
  const Ctor = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ResizableArrayBuffer;
  return new Ctor(doubles * 8, { maxByteLength: Math.max(doubles, MAX_DOUBLES) * 8 });
}

/**
 * Memory made by RecordPool.freshData and not yet taken over by a pool. importState adopts such
 * memory instead of copying it, once: a pool's own memory (what exportState hands out) is never
 * in here, so two pools never share one.
 */
const fresh = new WeakSet<ArrayBuffer>();

export interface RecordPoolState {
  data: Float64Array<ArrayBuffer>;
  freeLists: number[][];
}

export class RecordPool {
  private memory = resizable(INITIAL_DOUBLES);
  // Length-tracking views (no length given): they follow every resize of `memory`.
  private buffer = new Float64Array(this.memory);
  private wordView = new Uint32Array(this.memory);
  private top = 0;
  /** freeLists[k]: offsets of free blocks of 2^k doubles. */
  private readonly freeLists: number[][] = [];

  /**
   * `doubles` zeroed doubles in memory a pool grows in place, for a snapshot to be read straight
   * into and handed to importState, which then takes it over without a copy. A plain array copied
   * in instead stayed resident as garbage beside the pool (~65 MB at a million people) until a
   * major GC, which an idle gateway may not run for a long time. Pages the reader does not write
   * (the room to grow) are not committed.
   */
  static freshData(doubles: number): Float64Array<ArrayBuffer> {
    const memory = resizable(Math.max(doubles, INITIAL_DOUBLES));
    fresh.add(memory);
    return new Float64Array(memory);
  }

  /** The backing array; it follows growth (length-tracking), so reading it once per call is enough. */
  get data(): Float64Array {
    return this.buffer;
  }

  /** Bytes of memory the pool holds (its resizable buffer's current length). */
  get bytes(): number {
    return this.memory.byteLength;
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

  /**
   * `data` may be longer than the blocks it holds (`top`): the rest is room to grow into. Data
   * from freshData is taken over as it is; any other is copied once into the pool's resizable
   * memory, so that no later growth has to copy it.
   */
  importState(data: Float64Array<ArrayBuffer>, top: number, freeLists: number[][]): void {
    if (top > data.length) throw new RangeError('record pool state: top beyond the data');
    if (data.byteOffset === 0 && fresh.delete(data.buffer)) {
      this.adopt(data.buffer as ResizableArrayBuffer);
    } else {
      this.adopt(resizable(Math.max(data.length, INITIAL_DOUBLES)));
      this.buffer.set(data);
    }
    this.top = top;
    this.freeLists.length = 0;
    freeLists.forEach((list, k) => {
      if (list.length > 0) this.freeLists[k] = [...list];
    });
  }

  clear(): void {
    this.adopt(resizable(INITIAL_DOUBLES));
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
    if (length * 8 <= this.memory.maxByteLength) {
      this.memory.resize(length * 8); // in place: the views follow, nothing is copied
      return;
    }
    // Past the reserved address space (beyond ~25M people): one copy into a larger reservation.
    const next = resizable(length);
    new Float64Array(next).set(this.buffer.subarray(0, this.top)); // a byte copy (same type), NaN bits kept
    this.adopt(next);
  }

  private adopt(memory: ResizableArrayBuffer): void {
    this.memory = memory;
    this.buffer = new Float64Array(memory);
    this.wordView = new Uint32Array(memory);
  }
}
