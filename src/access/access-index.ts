import { CardTable, cardFromKeyParts, cardKeyParts } from './card-table.js';
import type { IndexState } from './index-state.js';
import { PersonRecords } from './person-records.js';
import { RecordPool } from './record-pool.js';
import type { Membership } from './model.js';
import { SubjectTable, type MemberSubject } from './subject-table.js';

export type { MemberSubject } from './subject-table.js';
export type { IndexState } from './index-state.js';

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
 *   [ personId, subject (64 raw bits), flags (see below),
 *     door, from, to,  door, from, to, ...      (windowCount grants, doors numbered)
 *     lo, hi, lo, hi, ...                       (cardCount card keys, for removal) ]
 *
 * A holder with one grant and one card fills exactly 8 doubles: one cache line. Disabled
 * cards live in a second, usually small, table. A record offset is valid only until the next
 * putPerson/removePerson: callers use it synchronously and never keep it.
 *
 * Member QR tokens name a person by subject, a 64-bit keyed hash of the email that every
 * gateway sharing the token key computes alike (src/qr/member-subject.ts, injected: this module
 * holds no key). A third table maps subject → record. Two people with one subject are both
 * refused (fail closed) and reported through onSubjectCollision. The instant before which a
 * person's tokens are void is kept beside the records, for the few people ever revoked: the
 * record stays one cache line.
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

export type SubjectOf = (email: string) => MemberSubject;

export interface AccessIndexOptions {
  hashSeed?: number;
  /** Without it nobody has a subject and every member token is refused as unknown. */
  subjectOf?: SubjectOf;
  /**
   * Id of the key subjectOf hashes with: the loader takes a subject stored in SQLite with this
   * key id as is (PersonInput.subject) instead of computing it (~2.6 µs a person).
   */
  subjectKeyId?: number;
  /** Told the local ids of the people sharing a subject whenever one more joins them. */
  onSubjectCollision?: (personIds: number[]) => void;
}

export interface PersonInput {
  id: number;
  /** Lower-cased email; the member-token subject is derived from it. */
  email?: string;
  /** The subject as stored with the index's key (subjectKeyId); when absent it is computed from email. */
  subject?: MemberSubject;
  active: boolean;
  tokensValidAfter: number;
  grants: GrantWindow[];
  cards: CardInput[];
  /** Person validity (people.valid_from/valid_to), ms; absent = open. */
  validFrom?: number;
  validTo?: number;
  /** Standing access by access group (person_groups rows), expanded by the index through its AccessModel. */
  memberships?: Membership[];
}

export interface CardInput {
  number: string;
  active: boolean;
  /** 'lost' is a disabled card reported lost (reason credential_lost); absent = from `active`. */
  state?: 'active' | 'disabled' | 'lost';
  /** The card's own validity, ms; absent = open. */
  validFrom?: number;
  validTo?: number;
}

/** What a holder's grants say about one door at one instant (AccessIndex.windowMatch). */
export type WindowMatch = typeof NO_GRANT | typeof OUTSIDE_WINDOW | typeof INSIDE_WINDOW;
export const NO_GRANT = 0;
export const OUTSIDE_WINDOW = 1;
export const INSIDE_WINDOW = 2;

const HEADER = 3;
const STRIDE = 3;
/**
 * Packing of the record's third double (53 bits): bit 0 active, bits 1–22 the window count,
 * bit 23 "has cards, none active" (withdrawn), bit 24 "has a subject", then the card count.
 */
const WINDOWS_LIMIT = 2 ** 22;
const WITHDRAWN = 2 ** 23;
const HAS_SUBJECT = 2 ** 24;
const CARDS_SHIFT = 2 ** 25;
const CARDS_LIMIT = 2 ** 28;

function windowCount(flags: number): number {
  return Math.floor(flags / 2) % WINDOWS_LIMIT;
}

function cardCount(flags: number): number {
  return Math.floor(flags / CARDS_SHIFT);
}

function flagSet(flags: number, bit: number): boolean {
  return Math.floor(flags / bit) % 2 === 1;
}

/** Doubles a record takes: header, three per grant, two (lo, hi) per card. */
function recordSize(windows: number, cards: number): number {
  return HEADER + STRIDE * windows + 2 * cards;
}

export class AccessIndex {
  private readonly pool = new RecordPool();
  private readonly activeCards: CardTable;
  private readonly disabledCards: CardTable;
  private subjects: SubjectTable;
  /** Person id → tokensValidAfter, only where it is not 0. */
  private readonly tokensAfter = new Map<number, number>();
  private subjectOf: SubjectOf | undefined;
  /** See AccessIndexOptions.subjectKeyId; read by the loader. */
  readonly subjectKeyId: number | undefined;
  private readonly hashSeed: number | undefined;
  private records = new PersonRecords();
  /** Cards that are not canonical decimals below 2^64, per person (rare); the record cannot hold them. */
  private otherCards = new Map<number, string[]>();
  /** Every door id ever seen (config or grant) → a small integer; never shrinks (a handful of doors). */
  private doorNumbers = new Map<string, number>();
  /** Configured doors only → their number. */
  private configuredDoors = new Map<string, number>();
  private grantCount = 0;

  constructor(options: AccessIndexOptions = {}) {
    this.activeCards = new CardTable(options.hashSeed);
    this.disabledCards = new CardTable(options.hashSeed);
    this.hashSeed = options.hashSeed;
    this.subjects = new SubjectTable(options.hashSeed, options.onSubjectCollision);
    this.subjectOf = options.subjectOf;
    this.subjectKeyId = options.subjectOf === undefined ? undefined : options.subjectKeyId;
  }

  /**
   * Sizes the tables for a load of about this many people and cards up front: growing them by
   * doubling on the way copies each table several times and leaves the old copies to the GC.
   */
  reserve(people: number, cards: number): void {
    this.pool.reserve(people * 8);
    this.activeCards.reserve(cards);
    if (this.subjectOf !== undefined) this.subjects.reserve(people);
  }

  /**
   * For a composition root that creates the index before it has read the token key. Only on an
   * empty index: people put before would have no subject.
   */
  setSubjectHasher(subjectOf: SubjectOf, onSubjectCollision?: (personIds: number[]) => void): void {
    if (this.records.size > 0) throw new Error('setSubjectHasher: the index already holds people');
    this.subjectOf = subjectOf;
    this.subjects = new SubjectTable(this.hashSeed, onSubjectCollision);
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

  /** Record of the person a member-token subject names, or -1 (unknown, or shared by several people). */
  subjectRecord(subject: MemberSubject): number {
    return this.subjects.record(subject);
  }

  /** True when the person holds cards and every one of them is disabled or lost. */
  recordCardsWithdrawn(record: number): boolean {
    return flagSet(this.pool.data[record + 2]!, WITHDRAWN);
  }

  /** Member tokens of the person issued before this instant (ms) are void. */
  tokensValidAfter(personId: number): number {
    return this.tokensAfter.get(personId) ?? 0;
  }

  /** How many subjects more than one person shares (their tokens are refused). */
  subjectCollisions(): number {
    return this.subjects.collisions();
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
    return { id, active: this.recordActive(record), tokensValidAfter: this.tokensValidAfter(id) };
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
    const subject =
      this.subjectOf === undefined ? null : (input.subject ?? (input.email !== undefined ? this.subjectOf(input.email) : null));
    const withdrawn = input.cards.length > 0 && !input.cards.some((c) => c.active);
    this.removePerson(input.id);
    const record = this.pool.alloc(recordSize(windows, cards));
    const data = this.pool.data;
    data[record] = input.id;
    if (subject !== null) {
      const words = this.pool.words;
      words[2 * (record + 1)] = subject.hi;
      words[2 * (record + 1) + 1] = subject.lo;
    } else {
      data[record + 1] = 0;
    }
    data[record + 2] =
      (input.active ? 1 : 0) + 2 * windows + (withdrawn ? WITHDRAWN : 0) + (subject !== null ? HAS_SUBJECT : 0) + CARDS_SHIFT * cards;
    let at = record + HEADER;
    for (const g of input.grants) {
      data[at++] = this.doorNumber(g.door);
      data[at++] = g.from;
      data[at++] = g.to;
    }
    for (const k of keys) data[at++] = k;
    this.records.set(input.id, record);
    if (input.tokensValidAfter !== 0) this.tokensAfter.set(input.id, input.tokensValidAfter);
    if (subject !== null) this.subjects.add(subject, record, input.id, (r) => this.recordPersonId(r));
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
    if (flagSet(data[record + 2]!, HAS_SUBJECT)) {
      const words = this.pool.words;
      const subject = { hi: words[2 * (record + 1)]!, lo: words[2 * (record + 1) + 1]! };
      this.subjects.remove(subject, record, id, (other) => this.records.get(other)!);
    }
    this.tokensAfter.delete(id);
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
    this.subjects.clear();
    this.tokensAfter.clear();
    this.records.clear();
    this.otherCards.clear();
    this.pool.clear();
    this.grantCount = 0;
  }

  exportState(): IndexState {
    const personIds = new Float64Array(this.records.size);
    const recordOffsets = new Float64Array(this.records.size);
    let i = 0;
    for (const [id, record] of this.records) {
      personIds[i] = id;
      recordOffsets[i++] = record;
    }
    return {
      subjectKeyId: this.subjectKeyId ?? null,
      pool: this.pool.exportState(),
      activeCards: this.activeCards.exportState(),
      disabledCards: this.disabledCards.exportState(),
      subjects: this.subjects.exportState(),
      personIds,
      recordOffsets,
      tokensAfter: [...this.tokensAfter],
      otherCards: [...this.otherCards],
      doorNumbers: [...this.doorNumbers.keys()],
      configuredDoors: [...this.configuredDoors.keys()],
      grantCount: this.grantCount,
    };
  }

  /**
   * Replaces everything with a state exportState made, under the same subject key: subjects
   * made with another key would name the wrong people. `state.pool.data` may be longer than
   * the blocks in use, `top` doubles are in use (room to grow without a copy at the first put).
   */
  importState(state: IndexState, top = state.pool.data.length): void {
    if (state.subjectKeyId !== (this.subjectKeyId ?? null)) throw new Error('index state was made with another member-token key');
    if (state.personIds.length !== state.recordOffsets.length) throw new RangeError('index state: person ids and records differ in length');
    this.pool.importState(state.pool.data, top, state.pool.freeLists);
    this.activeCards.importState(state.activeCards);
    this.disabledCards.importState(state.disabledCards);
    this.subjects.importState(state.subjects);
    const records = new PersonRecords();
    for (let i = 0; i < state.personIds.length; i++) records.set(state.personIds[i]!, state.recordOffsets[i]!);
    this.records = records;
    this.tokensAfter.clear();
    for (const [id, at] of state.tokensAfter) this.tokensAfter.set(id, at);
    this.otherCards = new Map(state.otherCards);
    this.doorNumbers = new Map(state.doorNumbers.map((id, n) => [id, n]));
    this.configuredDoors = new Map(state.configuredDoors.map((id) => [id, this.doorNumber(id)]));
    this.grantCount = state.grantCount;
  }

  /**
   * Bytes of the typed arrays the index holds (pool, card and subject tables, id pages). The pool
   * is a resizable ArrayBuffer, which process.memoryUsage().arrayBuffers does not count.
   */
  tableBytes(): number {
    return this.pool.bytes + this.activeCards.bytes + this.disabledCards.bytes + this.subjects.bytes + this.records.bytes;
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
