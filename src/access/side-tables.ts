import type { PrivilegeSpan } from './derive.js';
import type { CardInput } from './index-inputs.js';

/*
 * What only a few people or cards have, kept beside the records so that the record of
 * everyone else stays one cache line: a card reported lost or with its own validity, and the
 * privileges of members of lockdown-override and first-person-in groups. Each is read only on
 * a path that already knows it is needed (a disabled card, a record flagged HAS_CARD_RULES, a
 * site in lockdown, a granted read at a first-person-in door).
 */

/** A card's own state beyond active/disabled. Bounds in ms; ±Infinity when open. */
export interface CardRule {
  /** The person whose record holds the card: a stale rule of a card that moved on is not theirs. */
  readonly owner: number;
  readonly lost: boolean;
  readonly validFrom: number;
  readonly validTo: number;
}

/** What the validity checks answer: inside, before the start, at or after the end. */
export const VALID = 0;
export const NOT_YET_VALID = 1;
export const EXPIRED = 2;

export function validityAt(from: number, to: number, at: number): number {
  return at < from ? NOT_YET_VALID : at >= to ? EXPIRED : VALID;
}

/** Card number → its rule, for the rare cards that have one. */
export class CardRules {
  private rules = new Map<string, CardRule>();

  get size(): number {
    return this.rules.size;
  }

  get(number: string): CardRule | undefined {
    return this.rules.get(number);
  }

  set(number: string, rule: CardRule): void {
    this.rules.set(number, rule);
  }

  /** Forgets a card's rule if it still belongs to `owner` (the card may have moved to someone else). */
  dropIfOwned(number: string, owner: number): void {
    if (this.rules.get(number)?.owner === owner) this.rules.delete(number);
  }

  /** Forgets a card's rule whoever owned it: a put states the card's whole truth. */
  delete(number: string): void {
    this.rules.delete(number);
  }

  clear(): void {
    this.rules.clear();
  }

  entries(): [string, CardRule][] {
    return [...this.rules];
  }

  replace(entries: readonly [string, CardRule][]): void {
    this.rules = new Map(entries);
  }
}

/** Person id → the spans in which they hold a privilege. */
export class Privileges {
  private spans = new Map<number, readonly PrivilegeSpan[]>();

  get size(): number {
    return this.spans.size;
  }

  set(personId: number, spans: readonly PrivilegeSpan[]): void {
    if (spans.length === 0) this.spans.delete(personId);
    else this.spans.set(personId, spans);
  }

  delete(personId: number): void {
    this.spans.delete(personId);
  }

  lockdownOverride(personId: number, at: number): boolean {
    const spans = this.spans.get(personId);
    return spans !== undefined && spans.some((s) => s.lockdownOverride && at >= s.from && at < s.to);
  }

  firstPersonIn(personId: number, at: number): boolean {
    const spans = this.spans.get(personId);
    return spans !== undefined && spans.some((s) => s.firstPersonIn && at >= s.from && at < s.to);
  }

  clear(): void {
    this.spans.clear();
  }

  entries(): [number, readonly PrivilegeSpan[]][] {
    return [...this.spans];
  }

  replace(entries: readonly [number, readonly PrivilegeSpan[]][]): void {
    this.spans = new Map(entries);
  }
}

export function cardStateOf(c: CardInput): 'active' | 'disabled' | 'lost' {
  return c.state ?? (c.active ? 'active' : 'disabled');
}

export function hasOwnValidity(c: CardInput): boolean {
  return (c.validFrom !== undefined && c.validFrom !== -Infinity) || (c.validTo !== undefined && c.validTo !== Infinity);
}

/** The side-table rule of a card that is lost or has its own validity; null for every ordinary card. */
export function cardRuleOf(owner: number, c: CardInput): CardRule | null {
  const validFrom = c.validFrom ?? -Infinity;
  const validTo = c.validTo ?? Infinity;
  const lost = cardStateOf(c) === 'lost';
  if (!lost && !hasOwnValidity(c)) return null;
  return { owner, lost, validFrom, validTo };
}
