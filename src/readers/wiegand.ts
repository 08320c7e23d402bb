/*
 * Wiegand frame layouts, parity checking and encoding. Pure arithmetic on numbers: every
 * supported frame is at most 37 bits, well inside the 2^53 a double holds exactly, so no
 * BigInt and no bit array is needed on the hot path.
 *
 * Bit numbering follows the wire: bit 0 is the first bit transmitted and the most
 * significant bit of the frame value; bit N-1 is the last one.
 */

export type WiegandFormat = 'wiegand26' | 'wiegand34' | 'wiegand37';

export interface WiegandLayout {
  /** Total frame length in bits, parity included. */
  readonly bits: number;
  /** Bit 0 makes bits 1..evenTo (inclusive) even. */
  readonly evenTo: number;
  /** Bit N-1 makes bits oddFrom..N-2 (inclusive) odd. */
  readonly oddFrom: number;
  readonly facilityBits: number;
  readonly cardBits: number;
  /** 2^bits: every frame value is below it. */
  readonly frameLimit: number;
}

export const WIEGAND_LAYOUTS: Readonly<Record<WiegandFormat, WiegandLayout>> = {
  // HID H10301: P FFFFFFFF CCCCCCCCCCCCCCCC P
  wiegand26: { bits: 26, evenTo: 12, oddFrom: 13, facilityBits: 8, cardBits: 16, frameLimit: 2 ** 26 },
  // Common 34-bit: P F(16) C(16) P, halves of 16 payload bits each.
  wiegand34: { bits: 34, evenTo: 16, oddFrom: 17, facilityBits: 16, cardBits: 16, frameLimit: 2 ** 34 },
  // HID H10304: P F(16) C(19) P. The two parity ranges overlap on bit 18, as published by HID.
  wiegand37: { bits: 37, evenTo: 18, oddFrom: 18, facilityBits: 16, cardBits: 19, frameLimit: 2 ** 37 },
};

export function isWiegandFormat(format: string): format is WiegandFormat {
  return format === 'wiegand26' || format === 'wiegand34' || format === 'wiegand37';
}

/** 2^0..2^53, exact in a double. A table: `2 ** n` with a variable n is a slow Math.pow call. */
const POW2: readonly number[] = Array.from({ length: 54 }, (_, n) => 2 ** n);
const pow2 = (n: number): number => POW2[n] as number;

/** Population count of a non-negative integer below 2^32. */
function popcount32(x: number): number {
  let v = x >>> 0;
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits from..to (wire numbering, inclusive) of a frame value, as an integer. */
function bitRange(frame: number, frameBits: number, from: number, to: number): number {
  const width = to - from + 1;
  return Math.floor(frame / pow2(frameBits - 1 - to)) % pow2(width);
}

/**
 * Checks both parity bits of a frame value (0 ≤ frame < 2^bits) and returns the payload —
 * bits 1..N-2, i.e. facility and card number concatenated — or null when parity is bad.
 */
export function decodeWiegandFrame(frame: number, layout: WiegandLayout): number | null {
  const n = layout.bits;
  const leading = bitRange(frame, n, 0, 0);
  const trailing = frame % 2;
  // Every parity range is at most 18 bits wide, so popcount32 is exact.
  const evenOnes = popcount32(bitRange(frame, n, 1, layout.evenTo)) + leading;
  const oddOnes = popcount32(bitRange(frame, n, layout.oddFrom, n - 2)) + trailing;
  if (evenOnes % 2 !== 0 || oddOnes % 2 !== 1) return null;
  return Math.floor(frame / 2) % pow2(n - 2);
}

/** Largest facility code and card number a layout can carry (inclusive). */
export function wiegandLimits(layout: WiegandLayout): { maxFacility: number; maxCard: number } {
  return { maxFacility: pow2(layout.facilityBits) - 1, maxCard: pow2(layout.cardBits) - 1 };
}

/** Payload value (the canonical number) of a facility code and card number. */
export function wiegandPayload(layout: WiegandLayout, facility: number, card: number): number {
  return facility * pow2(layout.cardBits) + card;
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in 0..${max}, got ${value}`);
  }
}

/**
 * The frame of a facility code and card number with correct parity, as the binary string a
 * reader (or the simulator) sends, bit 0 first. Throws RangeError for out-of-range fields:
 * this is for tests and tooling, never for parsing untrusted input.
 */
export function encodeWiegand(format: WiegandFormat, facility: number, card: number): string {
  const layout = WIEGAND_LAYOUTS[format];
  const { maxFacility, maxCard } = wiegandLimits(layout);
  checkField('facility code', facility, maxFacility);
  checkField('card number', card, maxCard);
  const n = layout.bits;
  const payload = wiegandPayload(layout, facility, card);
  const unframed = payload * 2; // payload shifted into bits 1..N-2, both parity bits 0
  const evenBit = popcount32(bitRange(unframed, n, 1, layout.evenTo)) % 2;
  const oddBit = 1 - (popcount32(bitRange(unframed, n, layout.oddFrom, n - 2)) % 2);
  const frame = evenBit * pow2(n - 1) + unframed + oddBit;
  return frame.toString(2).padStart(n, '0');
}
