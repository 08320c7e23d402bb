/**
 * Canonical card numbers (src/readers/card-formats.ts) are decimal strings. Those below 2^64
 * without a leading zero (every Wiegand format, 4-, 7- and 8-byte UIDs) are stored in the card
 * table as the two 32-bit halves of their value; every other string (longer numbers, anything
 * non-canonical) goes to a plain Map, so the table keeps exact string-equality semantics for
 * any key. This module turns a number into those halves and back.
 */

const MAX_DIGITS = 20; // 2^64 - 1 has 20 digits
const TWO_32 = 0x1_0000_0000;

/** The 32-bit halves [lo, hi] of a canonical decimal below 2^64, or null for any other string. */
export function cardKeyParts(card: string): [number, number] | null {
  const parser = new KeyParser();
  return parser.parse(card) ? [parser.lo, parser.hi] : null;
}

/** The canonical decimal whose value has these 32-bit halves (inverse of cardKeyParts). */
export function cardFromKeyParts(lo: number, hi: number): string {
  const value = hi * TWO_32 + lo;
  return Number.isSafeInteger(value) ? String(value) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/**
 * Decimal → two 32-bit limbs without allocating (fields, not a returned pair). A table keeps
 * one and parses every lookup's card into it: the badge path allocates nothing.
 */
export class KeyParser {
  lo = 0;
  hi = 0;

  parse(card: string): boolean {
    const n = card.length;
    if (n === 0 || n > MAX_DIGITS) return false;
    if (n > 1 && card.charCodeAt(0) === 48 /* 0 */) return false;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const d = card.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      // Exact in doubles: lo < 2^32, so lo * 10 + 9 < 2^36; hi stays below 2^36 until the check.
      const wide = lo * 10 + d;
      const carry = Math.floor(wide / TWO_32);
      lo = wide - carry * TWO_32;
      hi = hi * 10 + carry;
      if (hi >= TWO_32) return false;
    }
    this.lo = lo;
    this.hi = hi;
    return true;
  }
}
