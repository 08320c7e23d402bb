import type { CardFormat } from '../config/schema.js';
import {
  WIEGAND_LAYOUTS,
  decodeWiegandFrame,
  isWiegandFormat,
  wiegandLimits,
  wiegandPayload,
  type WiegandLayout,
} from './wiegand.js';

export { encodeWiegand, type WiegandFormat } from './wiegand.js';

/*
 * Card reads → the canonical card number: the decimal string of the unsigned integer of the
 * card's payload bits, parity stripped, no leading zeros ("0" for zero). See
 * docs/card-formats.md. Called on every badge: hand-written scanners over char codes, no
 * regular expressions (nothing to backtrack) and no allocation beyond the result on the
 * common paths. Never throws on input: a bad read is a value, so the door decision can say why.
 */

export type CardReadFailure = 'bad_parity' | 'malformed_read';
export type CardRead = { ok: true; number: string } | { ok: false; reason: CardReadFailure };

const MALFORMED: CardRead = Object.freeze({ ok: false, reason: 'malformed_read' });
const BAD_PARITY: CardRead = Object.freeze({ ok: false, reason: 'bad_parity' });

/** Longest trimmed input of any format but raw-bits (whose own limit is 128 binary digits). */
const MAX_INPUT_CHARS = 64;
const MAX_RAW_BITS = 128;
/** Before trimming: a reader line can be up to 4096 chars, a card is never near that. */
const MAX_UNTRIMMED_CHARS = 256;
const MAX_DECIMAL_DIGITS = 20;
/** 16 bytes: covers 4-, 7- and 10-byte ISO 14443 UIDs and 8-byte ISO 15693 UIDs. */
const MAX_HEX_DIGITS = 32;
/** Wiegand frames given as hex: 10 digits hold 37 bits; a few leading zeros are tolerated. */
const MAX_FRAME_HEX_DIGITS = 16;

const ok = (number: string): CardRead => ({ ok: true, number });

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Value of a hex digit char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20; // ASCII case fold: maps exactly A-F and a-f onto 97..102
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

function isSeparator(c: number): boolean {
  return c === 58 /* : */ || c === 32 /* space */ || c === 45 /* - */;
}

/** Decimal digits without leading zeros ("0" for zero), or null if not 1..maxDigits digits. */
function canonicalDecimal(s: string, maxDigits: number): string | null {
  if (s.length === 0 || s.length > maxDigits) return null;
  let firstNonZero = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return null;
    if (firstNonZero < 0 && c !== 48) firstNonZero = i;
  }
  if (firstNonZero < 0) return '0';
  return firstNonZero === 0 ? s : s.slice(firstNonZero);
}

function startsWith0x(s: string): boolean {
  return s.length >= 2 && s.charCodeAt(0) === 48 && (s.charCodeAt(1) | 0x20) === 120;
}

/**
 * The bare hex digits of a UID written as `04A22B1A`, `0x04a22b1a`, `04:A2:2B:1A`,
 * `04 a2 2b 1a` or `04-A2-2B-1A`. With separators every group must be one whole byte.
 */
function uidHexDigits(s: string): string | null {
  const body = startsWith0x(s) ? s.slice(2) : s;
  if (body.length === 0) return null;
  let separators = 0;
  let groupLength = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (hexValue(c) >= 0) {
      groupLength++;
    } else if (isSeparator(c)) {
      if (groupLength !== 2) return null;
      separators++;
      groupLength = 0;
    } else {
      return null;
    }
  }
  if (separators > 0 && groupLength !== 2) return null;
  const digits = separators === 0 ? body : stripSeparators(body);
  return digits.length <= MAX_HEX_DIGITS ? digits : null;
}

function stripSeparators(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i += 3) out += body.slice(i, i + 2);
  return out;
}

/** Validated hex digits → canonical decimal. Exact through Number up to 52 bits, BigInt above. */
function hexToDecimal(digits: string): string {
  if (digits.length <= 13) {
    let value = 0;
    for (let i = 0; i < digits.length; i++) value = value * 16 + hexValue(digits.charCodeAt(i));
    return String(value);
  }
  return BigInt(`0x${digits}`).toString();
}

function reverseBytes(digits: string): string {
  let out = '';
  for (let i = digits.length - 2; i >= 0; i -= 2) out += digits.slice(i, i + 2);
  return out;
}

function parseHexMsb(s: string): CardRead {
  const digits = uidHexDigits(s);
  return digits === null ? MALFORMED : ok(hexToDecimal(digits));
}

function parseHexLsb(s: string): CardRead {
  const digits = uidHexDigits(s);
  if (digits === null || digits.length % 2 !== 0) return MALFORMED;
  return ok(hexToDecimal(reverseBytes(digits)));
}

/** Value of a string of 0/1 (at most 53 chars), or -1 if any other char appears. */
function binaryValue(s: string): number {
  let value = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 48 && c !== 49) return -1;
    value = value * 2 + (c - 48);
  }
  return value;
}

function parseRawBits(s: string): CardRead {
  if (s.length === 0 || s.length > MAX_RAW_BITS) return MALFORMED;
  if (s.length <= 53) {
    const value = binaryValue(s);
    return value < 0 ? MALFORMED : ok(String(value));
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 48 && c !== 49) return MALFORMED;
  }
  return ok(BigInt(`0b${s}`).toString());
}

/** A frame given as plain hex of its value (optional 0x, no separators), or -1. */
function frameFromHex(s: string): number {
  const body = startsWith0x(s) ? s.slice(2) : s;
  if (body.length === 0 || body.length > MAX_FRAME_HEX_DIGITS) return -1;
  let value = 0;
  for (let i = 0; i < body.length; i++) {
    const digit = hexValue(body.charCodeAt(i));
    if (digit < 0) return -1;
    value = value * 16 + digit; // ≤ 16 digits: may lose precision, but then it is ≥ 2^53 > any frame
  }
  return value;
}

/**
 * A Wiegand frame: exactly N binary digits, or the frame value in hex (< 2^N). A string of
 * N zeros and ones is always read as binary; anything else as hex.
 */
function parseWiegand(s: string, layout: WiegandLayout): CardRead {
  let frame = s.length === layout.bits ? binaryValue(s) : -1;
  if (frame < 0) frame = frameFromHex(s);
  if (frame < 0 || frame >= layout.frameLimit) return MALFORMED;
  const payload = decodeWiegandFrame(frame, layout);
  return payload === null ? BAD_PARITY : ok(String(payload));
}

function parseTrimmed(s: string, format: CardFormat): CardRead {
  if (s.length === 0) return MALFORMED;
  if (format === 'raw-bits') return parseRawBits(s);
  if (s.length > MAX_INPUT_CHARS) return MALFORMED;
  switch (format) {
    case 'decimal': {
      const number = canonicalDecimal(s, MAX_DECIMAL_DIGITS);
      return number === null ? MALFORMED : ok(number);
    }
    case 'hex-msb':
      return parseHexMsb(s);
    case 'hex-lsb':
      return parseHexLsb(s);
    case 'wiegand26':
    case 'wiegand34':
    case 'wiegand37':
      return parseWiegand(s, WIEGAND_LAYOUTS[format]);
    default:
      return MALFORMED; // unreachable for a validated config; fail closed all the same
  }
}

function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13); // space, \t \n \v \f \r
}

/**
 * ASCII-only trim: String#trim is Unicode-aware and measurably slower on this path, and a
 * card read with exotic whitespace in it is malformed anyway (fail closed).
 */
function trimAscii(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isAsciiSpace(s.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** One line from a badge reader → the canonical card number, or why it is not one. */
export function parseCardRead(line: string, format: CardFormat): CardRead {
  if (line.length > MAX_UNTRIMMED_CHARS) return MALFORMED;
  return parseTrimmed(trimAscii(line), format);
}

/** `FC:CN` in decimal, range-checked against the layout, → the canonical number. */
function parseFacilityCard(s: string, colon: number, layout: WiegandLayout): CardRead {
  const facility = canonicalDecimal(s.slice(0, colon), 10);
  const card = canonicalDecimal(s.slice(colon + 1), 10);
  if (facility === null || card === null) return MALFORMED;
  const fc = Number(facility);
  const cn = Number(card);
  const { maxFacility, maxCard } = wiegandLimits(layout);
  if (fc > maxFacility || cn > maxCard) return MALFORMED;
  return ok(String(wiegandPayload(layout, fc, cn)));
}

/**
 * A card number from the operator's import file: everything parseCardRead accepts, plus for
 * Wiegand formats the `FC:CN` notation printed on HID card boxes (e.g. `12:3456`).
 */
export function normalizeImportedCard(value: string, format: CardFormat): CardRead {
  if (value.length > MAX_UNTRIMMED_CHARS) return MALFORMED;
  const s = trimAscii(value);
  if (isWiegandFormat(format) && s.length <= MAX_INPUT_CHARS) {
    const colon = s.indexOf(':');
    if (colon >= 0) return parseFacilityCard(s, colon, WIEGAND_LAYOUTS[format]);
  }
  return parseTrimmed(s, format);
}
