/**
 * The in-memory picture of who may open which door when, derived from SQLite. Pure data:
 * no I/O here (the loader in src/store/index-loader.ts fills it).
 *
 * Laid out for the decision's memory hops, not for convenience: with a million card holders
 * the index is far larger than the CPU caches, and while a platform sync runs it is evicted
 * from them, so a decision costs roughly one cache miss per pointer it follows. A card maps
 * straight to its holder (disabled cards live in a separate, usually empty map), and a
 * holder's grants are one packed array of numbers — door, from, to — with doors numbered, so
 * checking every grant touches one block of memory and compares integers, not strings.
 */
export interface GrantWindow {
  readonly door: string;
  /** ms since epoch, inclusive; -Infinity when open */
  readonly from: number;
  /** ms since epoch, exclusive; +Infinity when open */
  readonly to: number;
}

/** Stride of PersonAccess.windows: [doorNumber, from, to] per grant. */
export const WINDOW_STRIDE = 3;

export interface PersonAccess {
  readonly id: number;
  readonly active: boolean;
  /** Member QR tokens issued before this instant (ms) are void. */
  readonly tokensValidAfter: number;
  /** Packed grants: doorNumber, from, to, doorNumber, from, to, ... (see AccessIndex.doorNumber). */
  readonly windows: readonly number[];
  readonly cards: readonly string[];
}

export interface PersonInput {
  id: number;
  active: boolean;
  tokensValidAfter: number;
  grants: GrantWindow[];
  cards: { number: string; active: boolean }[];
}

export class AccessIndex {
  private readonly activeCards = new Map<string, PersonAccess>();
  private readonly disabledCards = new Map<string, PersonAccess>();
  private readonly personMap = new Map<number, PersonAccess>();
  /** Every door id ever seen (config or grant) → a small integer; never shrinks (a handful of doors). */
  private readonly doorNumbers = new Map<string, number>();
  /** Configured doors only → their number. */
  private configuredDoors = new Map<string, number>();
  private grantCount = 0;

  setDoors(ids: Iterable<string>): void {
    const next = new Map<string, number>();
    for (const id of ids) next.set(id, this.doorNumber(id));
    this.configuredDoors = next;
  }

  /** The number grants use for a configured door, or -1 when the door is not configured. */
  configuredDoor(id: string): number {
    return this.configuredDoors.get(id) ?? -1;
  }

  /** The holder of an active card. */
  activeCardHolder(number: string): PersonAccess | undefined {
    return this.activeCards.get(number);
  }

  /** The holder of a card that exists but is disabled (lost, returned). */
  disabledCardHolder(number: string): PersonAccess | undefined {
    return this.disabledCards.get(number);
  }

  person(id: number): PersonAccess | undefined {
    return this.personMap.get(id);
  }

  /** Replaces everything known about one person, dropping cards they no longer hold. */
  putPerson(input: PersonInput): void {
    this.removePerson(input.id);
    // Built by push so V8 keeps it a packed array of unboxed doubles (no holes, no pointers),
    // then copied by slice() to its exact size: push leaves room for 17 doubles.
    const built: number[] = [];
    for (const g of input.grants) built.push(this.doorNumber(g.door), g.from, g.to);
    const windows = built.slice();
    const person: PersonAccess = {
      id: input.id,
      active: input.active,
      tokensValidAfter: input.tokensValidAfter,
      windows,
      cards: input.cards.map((c) => c.number),
    };
    this.personMap.set(person.id, person);
    this.grantCount += input.grants.length;
    for (const c of input.cards) {
      // A number is held by one person in one state (UNIQUE in SQLite); clear any stale entry.
      this.activeCards.delete(c.number);
      this.disabledCards.delete(c.number);
      (c.active ? this.activeCards : this.disabledCards).set(c.number, person);
    }
  }

  removePerson(id: number): void {
    const old = this.personMap.get(id);
    if (!old) return;
    this.grantCount -= old.windows.length / WINDOW_STRIDE;
    for (const number of old.cards) {
      if (this.activeCards.get(number) === old) this.activeCards.delete(number);
      if (this.disabledCards.get(number) === old) this.disabledCards.delete(number);
    }
    this.personMap.delete(id);
  }

  clear(): void {
    this.activeCards.clear();
    this.disabledCards.clear();
    this.personMap.clear();
    this.grantCount = 0;
  }

  stats(): { people: number; cards: number; grants: number; doors: number } {
    return {
      people: this.personMap.size,
      cards: this.activeCards.size + this.disabledCards.size,
      grants: this.grantCount,
      doors: this.configuredDoors.size,
    };
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
