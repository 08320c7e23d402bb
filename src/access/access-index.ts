import { CardTable, cardFromKeyParts, cardKeyParts } from './card-table.js';
import { RecordPool } from './record-pool.js';

/**
 * The in-memory picture of who may open which door when, derived from SQLite. Pure data:
 * no I/O here (the loader in src/store/index-loader.ts fills it).
 *
 * Laid out for the decision's memory hops, not for convenience. With a million card holders
 * the index is far larger than the CPU caches, and while a platform sync runs it is evicted
 * from them, so a decision costs roughly one cache miss per memory block it touches. Here it
 * touches two: the card's slot in a flat hash table (CardTable), which holds the offset of the
 * holder's record, and that record, one contiguous run of doubles in a RecordPool:
 *
 *   [ personId, tokensValidAfter, active + 2 × windowCount + 2^23 × cardCount,
 *     door, from, to,  door, from, to, ...      (windowCount grants, doors numbered)
 *     lo, hi, lo, hi, ...                       (cardCount card keys, for removal) ]
 *
 * A holder with one grant and one card fills exactly 8 doubles: one cache line. Disabled
 * cards live in a second, usually small, table. A record offset is valid only until the next
 * putPerson/removePerson: callers use it synchronously and never keep it.
 */
export interface GrantWindow {
  readonly door: string;
  /** ms since epoch, inclusive; -Infinity when open */
  readonly from: number;
  /** ms since epoch, exclusive; +Infinity when open */
  readonly to: number;
}

export interface PersonAccess {
  readonly id: number;
  readonly active: boolean;
  /** Member QR tokens issued before this instant (ms) are void. */
  readonly tokensValidAfter: number;
}

export interface PersonInput {
  id: number;
  active: boolean;
  tokensValidAfter: number;
  grants: GrantWindow[];
  cards: { number: string; active: boolean }[];
}

/** What a holder's grants say about one door at one instant (AccessIndex.windowMatch). */
export type WindowMatch = typeof NO_GRANT | typeof OUTSIDE_WINDOW | typeof INSIDE_WINDOW;
export const NO_GRANT = 0;
export const OUTSIDE_WINDOW = 1;
export const INSIDE_WINDOW = 2;

const HEADER = 3;
const STRIDE = 3;
/** Packing of the record's third double: bit 0 active, then the window count, then the card count. */
const WINDOWS_LIMIT = 2 ** 22;
const CARDS_SHIFT = 2 ** 23;
const CARDS_LIMIT = 2 ** 30;

function windowCount(flags: number): number {
  return Math.floor(flags / 2) % WINDOWS_LIMIT;
}

function cardCount(flags: number): number {
  return Math.floor(flags / CARDS_SHIFT);
}

/** Doubles a record takes: header, three per grant, two (lo, hi) per card. */
function recordSize(windows: number, cards: number): number {
  return HEADER + STRIDE * windows + 2 * cards;
}

export class AccessIndex {
  private readonly pool = new RecordPool();
  private readonly activeCards: CardTable;
  private readonly disabledCards: CardTable;
  private readonly records = new Map<number, number>();
  /** Cards that are not canonical decimals below 2^64, per person (rare); the record cannot hold them. */
  private readonly otherCards = new Map<number, string[]>();
  /** Every door id ever seen (config or grant) → a small integer; never shrinks (a handful of doors). */
  private readonly doorNumbers = new Map<string, number>();
  /** Configured doors only → their number. */
  private configuredDoors = new Map<string, number>();
  private grantCount = 0;

  constructor(options: { hashSeed?: number } = {}) {
    this.activeCards = new CardTable(options.hashSeed);
    this.disabledCards = new CardTable(options.hashSeed);
  }

  setDoors(ids: Iterable<string>): void {
    const next = new Map<string, number>();
    for (const id of ids) next.set(id, this.doorNumber(id));
    this.configuredDoors = next;
  }

  /** The number grants use for a configured door, or -1 when the door is not configured. */
  configuredDoor(id: string): number {
    return this.configuredDoors.get(id) ?? -1;
  }

  /** Record of the holder of an active card, or -1. */
  activeCardRecord(number: string): number {
    return this.activeCards.get(number);
  }

  /** Record of the holder of a card that exists but is disabled (lost, returned), or -1. */
  disabledCardRecord(number: string): number {
    return this.disabledCards.get(number);
  }

  /** Record of a person, or -1. */
  personRecord(id: number): number {
    return this.records.get(id) ?? -1;
  }

  recordPersonId(record: number): number {
    return this.pool.data[record]!;
  }

  recordActive(record: number): boolean {
    return this.pool.data[record + 2]! % 2 === 1;
  }

  /** Whether the record's grants open `door` (a configuredDoor number) at `at`. */
  windowMatch(record: number, door: number, at: number): WindowMatch {
    const data = this.pool.data;
    const end = record + HEADER + STRIDE * windowCount(data[record + 2]!);
    let match: WindowMatch = NO_GRANT;
    for (let i = record + HEADER; i < end; i += STRIDE) {
      if (data[i] !== door) continue;
      if (at >= data[i + 1]! && at < data[i + 2]!) return INSIDE_WINDOW;
      match = OUTSIDE_WINDOW;
    }
    return match;
  }

  person(id: number): PersonAccess | undefined {
    const record = this.records.get(id);
    if (record === undefined) return undefined;
    return { id, active: this.recordActive(record), tokensValidAfter: this.pool.data[record + 1]! };
  }

  /** Replaces everything known about one person, dropping cards they no longer hold. */
  putPerson(input: PersonInput): void {
    const windows = input.grants.length;
    const keys: number[] = [];
    const others: string[] = [];
    for (const c of input.cards) {
      const parts = cardKeyParts(c.number);
      if (parts) keys.push(...parts);
      else others.push(c.number);
    }
    const cards = keys.length / 2;
    if (windows >= WINDOWS_LIMIT || cards >= CARDS_LIMIT) throw new RangeError(`person ${input.id}: too many grants or cards for one record`);
    this.removePerson(input.id);
    const record = this.pool.alloc(recordSize(windows, cards));
    const data = this.pool.data;
    data[record] = input.id;
    data[record + 1] = input.tokensValidAfter;
    data[record + 2] = (input.active ? 1 : 0) + 2 * windows + CARDS_SHIFT * cards;
    let at = record + HEADER;
    for (const g of input.grants) {
      data[at++] = this.doorNumber(g.door);
      data[at++] = g.from;
      data[at++] = g.to;
    }
    for (const k of keys) data[at++] = k;
    this.records.set(input.id, record);
    if (others.length > 0) this.otherCards.set(input.id, others);
    this.grantCount += windows;
    for (const c of input.cards) {
      // A number is held by one person in one state (UNIQUE in SQLite); clear any stale entry.
      this.activeCards.delete(c.number);
      this.disabledCards.delete(c.number);
      (c.active ? this.activeCards : this.disabledCards).set(c.number, record);
    }
  }

  removePerson(id: number): void {
    const record = this.records.get(id);
    if (record === undefined) return;
    const data = this.pool.data;
    const windows = windowCount(data[record + 2]!);
    const cards = cardCount(data[record + 2]!);
    const firstKey = record + HEADER + STRIDE * windows;
    for (let i = firstKey; i < firstKey + 2 * cards; i += 2) this.dropCard(cardFromKeyParts(data[i]!, data[i + 1]!), record);
    for (const number of this.otherCards.get(id) ?? []) this.dropCard(number, record);
    this.otherCards.delete(id);
    this.grantCount -= windows;
    this.records.delete(id);
    this.pool.free(record, recordSize(windows, cards));
  }

  clear(): void {
    this.activeCards.clear();
    this.disabledCards.clear();
    this.records.clear();
    this.otherCards.clear();
    this.pool.clear();
    this.grantCount = 0;
  }

  stats(): { people: number; cards: number; grants: number; doors: number } {
    return {
      people: this.records.size,
      cards: this.activeCards.size + this.disabledCards.size,
      grants: this.grantCount,
      doors: this.configuredDoors.size,
    };
  }

  /** Removes a card's entry only if it still points at this record (it may have moved on). */
  private dropCard(number: string, record: number): void {
    if (this.activeCards.get(number) === record) this.activeCards.delete(number);
    if (this.disabledCards.get(number) === record) this.disabledCards.delete(number);
  }

  private doorNumber(id: string): number {
    let n = this.doorNumbers.get(id);
    if (n === undefined) {
      n = this.doorNumbers.size;
      this.doorNumbers.set(id, n);
    }
    return n;
  }
}
