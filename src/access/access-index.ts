import { CardTable } from './card-table.js';
import { DoorNumbers } from './door-numbers.js';
import { compileGroups, modelHash, type CompiledGroups } from './derive.js';
import { GroupDoors } from './group-doors.js';
import { matchWindows, storedWindows } from './window-match.js';
import type { AccessIndexOptions, PersonAccess, PersonInput, StoredWindow, SubjectOf } from './index-inputs.js';
import { exportIndexState, importIndexState, type IndexState } from './index-state.js';
import { clearPeople, putPersonInto, removePersonFrom } from './index-writes.js';
import type { AccessModel, ScheduleStates } from './model.js';
import { PersonRecords } from './person-records.js';
import * as layout from './record-layout.js';
import { RecordPool } from './record-pool.js';
import { CardRules, Privileges, VALID, validityAt } from './side-tables.js';
import { SubjectTable, type MemberSubject } from './subject-table.js';

export type { MemberSubject } from './subject-table.js';
export type { AccessIndexOptions, CardInput, GrantWindow, PersonAccess, PersonInput, StoredWindow, SubjectOf } from './index-inputs.js';
export type { IndexState } from './index-state.js';
export type { GrantSource } from './grant-source.js';

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
 *   [ personId, flags,
 *     validFrom, validTo,                       (only for people with a validity)
 *     windowKey, from, to, ...                  (the person's windows: door, schedule slot, source;
 *                                                a standing membership is its key alone)
 *     lo, hi, ...,                              (card keys, for removal)
 *     subject (64 raw bits) ]                   (for removal)
 *
 * (record-layout.ts has the bits.) A holder with one grant, one standing membership and one
 * card fills exactly 8 doubles: one cache line. Disabled cards live in a second, usually small, table. A record
 * offset is valid only until the next putPerson/removePerson: callers use it synchronously
 * and never keep it.
 *
 * Schedules stay out of the record and out of the loop: a window holds a schedule *slot*, and
 * only a window of the right door, inside its from/to, with a slot other than 0 asks the
 * ScheduleStates (one array read while the cached states are current). A membership is one
 * window naming its group; the group's doors and their schedules are one small table shared
 * by every member (group-doors.ts), so a member's record stays one cache line.
 *
 * Member QR tokens name a person by subject, a 64-bit keyed hash of the email that every
 * gateway sharing the token key computes alike (src/qr/member-subject.ts, injected: this module
 * holds no key). A third table maps subject → record. Two people with one subject are both
 * refused (fail closed) and reported through onSubjectCollision. The instant before which a
 * person's tokens are void is kept beside the records, for the few people ever revoked: the
 * record stays one cache line.
 */
export { GRANTED, NO_GRANT, OUTSIDE_SCHEDULE, OUTSIDE_WINDOW } from './window-match.js';

export class AccessIndex {
  // The tables are public for the two modules that change them besides the methods here:
  // index-writes.ts (put, remove, clear) and index-state.ts (snapshot export and import).
  // Everything else reads the index through its methods. Order kept: it is the object's shape.
  readonly pool = new RecordPool();
  readonly activeCards: CardTable;
  readonly disabledCards: CardTable;
  subjects: SubjectTable;
  /** Person id → tokensValidAfter, only where it is not 0. */
  readonly tokensAfter = new Map<number, number>();
  readonly cardRules = new CardRules();
  readonly privileges = new Privileges();
  subjectOf: SubjectOf | undefined;
  /** See AccessIndexOptions.subjectKeyId; read by the loader. */
  readonly subjectKeyId: number | undefined;
  private readonly hashSeed: number | undefined;
  records = new PersonRecords();
  /** Cards that are not canonical decimals below 2^64, per person (rare); the record cannot hold them. */
  otherCards = new Map<number, string[]>();
  readonly doors = new DoorNumbers();
  grantCount = 0;
  /** The access model's schedules and groups (setModel); null: no model, every window is "always". */
  states: ScheduleStates | null = null;
  groups: CompiledGroups | null = null;
  /** The groups' doors by door number; rebuilt when door numbers are replaced (importState). */
  groupDoors: GroupDoors | null = null;
  hashOfModel: string | null = null;

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

  /**
   * The access model the windows are derived under: memberships expand through its groups,
   * schedule ids become slots of `states`. Only on an empty index (a new model means a new
   * index built beside the old one and swapped in: windows already put hold the old slots).
   */
  setModel(model: AccessModel, states: ScheduleStates): void {
    if (this.records.size > 0) throw new Error('setModel: the index already holds people');
    this.states = states;
    this.groups = compileGroups(model, states);
    this.groupDoors = new GroupDoors(this.groups, (door) => this.doors.numberOf(door));
    this.hashOfModel = modelHash(model);
  }

  /** Fingerprint of the model set (derive.ts modelHash), null without one: what a snapshot must match. */
  get modelHash(): string | null {
    return this.hashOfModel;
  }

  /** The schedule states windows are checked against; null without a model. */
  get schedules(): ScheduleStates | null {
    return this.states;
  }

  setDoors(ids: Iterable<string>): void {
    this.doors.setConfigured(ids);
  }

  /** The number grants use for a configured door, or -1 when the door is not configured. */
  configuredDoor(id: string): number {
    return this.doors.configured(id);
  }

  /** Record of the holder of an active card, or -1. */
  activeCardRecord(number: string): number {
    return this.activeCards.get(number);
  }

  /** Record of the holder of a card that exists but is disabled (lost, returned), or -1. */
  disabledCardRecord(number: string): number {
    return this.disabledCards.get(number);
  }

  /** Whether a disabled card was reported lost (reason credential_lost rather than credential_disabled). */
  cardLost(number: string): boolean {
    return this.cardRules.get(number)?.lost === true;
  }

  /** Whether one of the record's active cards has its own validity (then cardValidity says which). */
  recordHasCardRules(record: number): boolean {
    return layout.flagSet(this.pool.data[record + 1]!, layout.HAS_CARD_RULES);
  }

  /** VALID, NOT_YET_VALID or EXPIRED (side-tables.ts) for a card's own validity at `at`. */
  cardValidity(number: string, at: number): number {
    const rule = this.cardRules.get(number);
    return rule === undefined ? VALID : validityAt(rule.validFrom, rule.validTo, at);
  }

  /** Record of a person, or -1. */
  personRecord(id: number): number {
    return this.records.get(id) ?? -1;
  }

  recordPersonId(record: number): number {
    return this.pool.data[record]!;
  }

  recordActive(record: number): boolean {
    return layout.isActive(this.pool.data[record + 1]!);
  }

  /** VALID, NOT_YET_VALID or EXPIRED for the person's validFrom/validTo at `at`. */
  recordValidity(record: number, at: number): number {
    const data = this.pool.data;
    const flags = data[record + 1]!;
    if (!layout.flagSet(flags, layout.HAS_VALIDITY)) return VALID;
    const v = layout.validityOffset(record);
    return validityAt(data[v]!, data[v + 1]!, at);
  }

  /** Record of the person a member-token subject names, or -1 (unknown, or shared by several people). */
  subjectRecord(subject: MemberSubject): number {
    return this.subjects.record(subject);
  }

  /** True when the person holds cards and every one of them is disabled or lost. */
  recordCardsWithdrawn(record: number): boolean {
    return layout.flagSet(this.pool.data[record + 1]!, layout.WITHDRAWN);
  }

  /** Member tokens of the person issued before this instant (ms) are void. */
  tokensValidAfter(personId: number): number {
    return this.tokensAfter.get(personId) ?? 0;
  }

  /** Whether the person is, at `at`, a member of a lockdownOverride group. */
  lockdownOverride(personId: number, at: number): boolean {
    return this.privileges.lockdownOverride(personId, at);
  }

  /** Whether the person is, at `at`, a member of a firstPersonIn group. */
  firstPersonIn(personId: number, at: number): boolean {
    return this.privileges.firstPersonIn(personId, at);
  }

  /** How many subjects more than one person shares (their tokens are refused). */
  subjectCollisions(): number {
    return this.subjects.collisions();
  }

  /** What the record's windows say about `door` at `at` (window-match.ts): the decision's one loop. */
  matchWindows(record: number, door: number, at: number): number {
    return matchWindows(this.pool.data, record, door, at, this.states, this.groupDoors);
  }

  /** The windows the index holds for a person (own grants, memberships told per door), in record order. */
  personWindows(id: number): StoredWindow[] {
    const record = this.records.get(id);
    return record === undefined ? [] : storedWindows(this.pool.data, record, (n) => this.doors.idOf(n)!, this.groupDoors);
  }


  person(id: number): PersonAccess | undefined {
    const record = this.records.get(id);
    if (record === undefined) return undefined;
    return { id, active: this.recordActive(record), tokensValidAfter: this.tokensValidAfter(id) };
  }

  /** The person's validFrom/validTo as the index holds them (±Infinity when open), or undefined. */
  personValidity(id: number): { validFrom: number; validTo: number } | undefined {
    const record = this.records.get(id);
    if (record === undefined) return undefined;
    const data = this.pool.data;
    const flags = data[record + 1]!;
    if (!layout.flagSet(flags, layout.HAS_VALIDITY)) return { validFrom: -Infinity, validTo: Infinity };
    const v = layout.validityOffset(record);
    return { validFrom: data[v]!, validTo: data[v + 1]! };
  }

  /** Replaces everything known about one person, dropping cards they no longer hold. */
  putPerson(input: PersonInput): void {
    putPersonInto(this, input);
  }

  removePerson(id: number): void {
    removePersonFrom(this, id);
  }

  /** Forgets every person; the doors and the model stay. */
  clear(): void {
    clearPeople(this);
  }

  /** Everything the index holds, for a snapshot (index-state.ts): the arrays are its own, not copies. */
  exportState(): IndexState {
    return exportIndexState(this);
  }

  /**
   * Replaces everything with a state exportState made, under the same subject key and the same
   * model (index-state.ts says why). `top` doubles of `state.pool.data` are in use.
   */
  importState(state: IndexState, top = state.pool.data.length): void {
    importIndexState(this, state, top);
  }

  /**
   * Bytes of the typed arrays the index holds (pool, card and subject tables, id pages). The pool
   * is a resizable ArrayBuffer, which process.memoryUsage().arrayBuffers does not count.
   */
  tableBytes(): number {
    return this.pool.bytes + this.activeCards.bytes + this.disabledCards.bytes + this.subjects.bytes + this.records.bytes + (this.groupDoors?.bytes ?? 0);
  }

  stats(): { people: number; cards: number; grants: number; doors: number } {
    return {
      people: this.records.size,
      cards: this.activeCards.size + this.disabledCards.size,
      grants: this.grantCount,
      doors: this.doors.configuredCount,
    };
  }
}
