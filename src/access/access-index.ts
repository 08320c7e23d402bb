import { cardFromKeyParts } from './card-keys.js';
import { CardTable } from './card-table.js';
import { DoorNumbers } from './door-numbers.js';
import { compileGroups, modelHash, privilegesOf, type CompiledGroups } from './derive.js';
import { GroupDoors } from './group-doors.js';
import { matchWindows, storedWindows } from './window-match.js';
import type { AccessIndexOptions, PersonAccess, PersonInput, StoredWindow, SubjectOf } from './index-inputs.js';
import type { IndexState } from './index-state.js';
import { ALWAYS, type AccessModel, type ScheduleStates } from './model.js';
import { PersonRecords } from './person-records.js';
import * as layout from './record-layout.js';
import { RecordPool } from './record-pool.js';
import { planRecord, writeRecord } from './record-writer.js';
import { CardRules, Privileges, VALID, cardRuleOf, cardStateOf, validityAt } from './side-tables.js';
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
 *   [ personId, subject (64 raw bits), flags,
 *     validFrom, validTo,                       (only for people with a validity)
 *     windowKey, from, to, ...                  (the person's windows: door, schedule slot, source)
 *     lo, hi, ... ]                             (card keys, for removal)
 *
 * (record-layout.ts has the bits.) A holder with one grant and one card fills exactly 8
 * doubles: one cache line. Disabled cards live in a second, usually small, table. A record
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

const { STRIDE } = layout;

export class AccessIndex {
  private readonly pool = new RecordPool();
  private readonly activeCards: CardTable;
  private readonly disabledCards: CardTable;
  private subjects: SubjectTable;
  /** Person id → tokensValidAfter, only where it is not 0. */
  private readonly tokensAfter = new Map<number, number>();
  private readonly cardRules = new CardRules();
  private readonly privileges = new Privileges();
  private subjectOf: SubjectOf | undefined;
  /** See AccessIndexOptions.subjectKeyId; read by the loader. */
  readonly subjectKeyId: number | undefined;
  private readonly hashSeed: number | undefined;
  private records = new PersonRecords();
  /** Cards that are not canonical decimals below 2^64, per person (rare); the record cannot hold them. */
  private otherCards = new Map<number, string[]>();
  private readonly doors = new DoorNumbers();
  private grantCount = 0;
  /** The access model's schedules and groups (setModel); null: no model, every window is "always". */
  private states: ScheduleStates | null = null;
  private groups: CompiledGroups | null = null;
  /** The groups' doors by door number; rebuilt when door numbers are replaced (importState). */
  private groupDoors: GroupDoors | null = null;
  private hashOfModel: string | null = null;

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
    return layout.flagSet(this.pool.data[record + 2]!, layout.HAS_CARD_RULES);
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
    return layout.isActive(this.pool.data[record + 2]!);
  }

  /** VALID, NOT_YET_VALID or EXPIRED for the person's validFrom/validTo at `at`. */
  recordValidity(record: number, at: number): number {
    const data = this.pool.data;
    const flags = data[record + 2]!;
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
    return layout.flagSet(this.pool.data[record + 2]!, layout.WITHDRAWN);
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
    const flags = data[record + 2]!;
    if (!layout.flagSet(flags, layout.HAS_VALIDITY)) return { validFrom: -Infinity, validTo: Infinity };
    const v = layout.validityOffset(record);
    return { validFrom: data[v]!, validTo: data[v + 1]! };
  }

  /** Replaces everything known about one person, dropping cards they no longer hold. */
  putPerson(input: PersonInput): void {
    // Planned (and refused, if it must be) before the person's old record is touched.
    const plan = planRecord(input, this.groupDoors, (schedule) => this.slotOf(schedule), (door) => this.doors.numberOf(door));
    const subject =
      this.subjectOf === undefined ? null : (input.subject ?? (input.email !== undefined ? this.subjectOf(input.email) : null));
    this.removePerson(input.id);
    const record = this.pool.alloc(plan.size);
    writeRecord(this.pool.data, this.pool.words, record, input.id, subject, plan);
    this.records.set(input.id, record);
    if (input.tokensValidAfter !== 0) this.tokensAfter.set(input.id, input.tokensValidAfter);
    if (subject !== null) this.subjects.add(subject, record, input.id, (r) => this.recordPersonId(r));
    if (plan.others.length > 0) this.otherCards.set(input.id, plan.others);
    if (input.memberships !== undefined && this.groups !== null) this.privileges.set(input.id, privilegesOf(input.memberships, this.groups));
    this.grantCount += plan.windows.length / STRIDE;
    for (const c of input.cards) {
      // A number is held by one person in one state (UNIQUE in SQLite); clear any stale entry.
      this.activeCards.delete(c.number);
      this.disabledCards.delete(c.number);
      if (this.cardRules.size > 0) this.cardRules.delete(c.number);
      (cardStateOf(c) === 'active' ? this.activeCards : this.disabledCards).set(c.number, record);
      const rule = cardRuleOf(input.id, c);
      if (rule !== null) this.cardRules.set(c.number, rule);
    }
  }

  removePerson(id: number): void {
    const record = this.records.get(id);
    if (record === undefined) return;
    const data = this.pool.data;
    const flags = data[record + 2]!;
    const windows = layout.windowCount(flags);
    const cards = layout.cardCount(flags);
    if (layout.flagSet(flags, layout.HAS_SUBJECT)) {
      const words = this.pool.words;
      const subject = { hi: words[2 * (record + 1)]!, lo: words[2 * (record + 1) + 1]! };
      this.subjects.remove(subject, record, id, (other) => this.records.get(other)!);
    }
    this.tokensAfter.delete(id);
    this.privileges.delete(id);
    const firstKey = layout.windowsAt(record, flags) + STRIDE * windows;
    for (let i = firstKey; i < firstKey + 2 * cards; i += 2) this.dropCard(cardFromKeyParts(data[i]!, data[i + 1]!), record, id);
    for (const number of this.otherCards.get(id) ?? []) this.dropCard(number, record, id);
    this.otherCards.delete(id);
    this.grantCount -= windows;
    this.records.delete(id);
    this.pool.free(record, layout.recordSize(windows, cards, layout.flagSet(flags, layout.HAS_VALIDITY)));
  }

  /** Forgets every person; the doors and the model stay. */
  clear(): void {
    this.activeCards.clear();
    this.disabledCards.clear();
    this.subjects.clear();
    this.tokensAfter.clear();
    this.cardRules.clear();
    this.privileges.clear();
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
      modelHash: this.hashOfModel,
      pool: this.pool.exportState(),
      activeCards: this.activeCards.exportState(),
      disabledCards: this.disabledCards.exportState(),
      subjects: this.subjects.exportState(),
      personIds,
      recordOffsets,
      tokensAfter: [...this.tokensAfter],
      otherCards: [...this.otherCards],
      cardRules: this.cardRules.entries(),
      privileges: this.privileges.entries(),
      ...this.doors.exportState(),
      grantCount: this.grantCount,
    };
  }

  /**
   * Replaces everything with a state exportState made, under the same subject key and the same
   * model: subjects made with another key would name the wrong people, windows made under
   * another model hold its groups' doors and its schedules' slots. `state.pool.data` may be
   * longer than the blocks in use, `top` doubles are in use (room to grow without a copy at the
   * first put).
   */
  importState(state: IndexState, top = state.pool.data.length): void {
    if (state.subjectKeyId !== (this.subjectKeyId ?? null)) throw new Error('index state was made with another member-token key');
    if (state.modelHash !== this.hashOfModel) throw new Error('index state was made under another access model');
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
    this.cardRules.replace(state.cardRules);
    this.privileges.replace(state.privileges);
    this.doors.importState(state.doorNumbers, state.configuredDoors);
    // The snapshot's door numbering replaces ours: the groups' table is numbered anew with it.
    if (this.groups !== null) this.groupDoors = new GroupDoors(this.groups, (door) => this.doors.numberOf(door));
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
      doors: this.doors.configuredCount,
    };
  }

  /** Removes a card's entries only if they still point at this record (it may have moved on). */
  private dropCard(number: string, record: number, owner: number): void {
    if (this.activeCards.get(number) === record) this.activeCards.delete(number);
    if (this.disabledCards.get(number) === record) this.disabledCards.delete(number);
    this.cardRules.dropIfOwned(number, owner);
  }

  private slotOf(schedule: string | null): number {
    if (schedule === null) return ALWAYS;
    if (this.states === null) throw new Error(`a window names schedule ${schedule} but the index has no model (setModel)`);
    return this.states.slotOf(schedule);
  }
}
