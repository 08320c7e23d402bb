/**
 * The in-memory picture of who may open which door when, derived from SQLite. Pure data:
 * no I/O here (the loader in src/store/index-loader.ts fills it). Shapes are kept monomorphic
 * and small because this index holds a million cards on a small box.
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
  readonly grants: readonly GrantWindow[];
  readonly cards: readonly string[];
}

export interface CardEntry {
  readonly person: PersonAccess;
  readonly active: boolean;
}

export interface PersonInput {
  id: number;
  active: boolean;
  tokensValidAfter: number;
  grants: GrantWindow[];
  cards: { number: string; active: boolean }[];
}

export class AccessIndex {
  private readonly cardMap = new Map<string, CardEntry>();
  private readonly personMap = new Map<number, PersonAccess>();
  private doorSet: ReadonlySet<string> = new Set();
  private grantCount = 0;

  setDoors(ids: Iterable<string>): void {
    this.doorSet = new Set(ids);
  }

  hasDoor(id: string): boolean {
    return this.doorSet.has(id);
  }

  card(number: string): CardEntry | undefined {
    return this.cardMap.get(number);
  }

  person(id: number): PersonAccess | undefined {
    return this.personMap.get(id);
  }

  /** Replaces everything known about one person, dropping cards they no longer hold. */
  putPerson(input: PersonInput): void {
    this.removePerson(input.id);
    const person: PersonAccess = {
      id: input.id,
      active: input.active,
      tokensValidAfter: input.tokensValidAfter,
      grants: input.grants,
      cards: input.cards.map((c) => c.number),
    };
    this.personMap.set(person.id, person);
    this.grantCount += person.grants.length;
    for (const c of input.cards) this.cardMap.set(c.number, { person, active: c.active });
  }

  removePerson(id: number): void {
    const old = this.personMap.get(id);
    if (!old) return;
    this.grantCount -= old.grants.length;
    for (const number of old.cards) {
      if (this.cardMap.get(number)?.person === old) this.cardMap.delete(number);
    }
    this.personMap.delete(id);
  }

  clear(): void {
    this.cardMap.clear();
    this.personMap.clear();
    this.grantCount = 0;
  }

  stats(): { people: number; cards: number; grants: number; doors: number } {
    return { people: this.personMap.size, cards: this.cardMap.size, grants: this.grantCount, doors: this.doorSet.size };
  }
}
