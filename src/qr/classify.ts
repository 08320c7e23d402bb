import { parseCardRead } from '../readers/card-formats.js';
import { MEMBER_TOKEN_PREFIX, MEMBER_TOKEN_LENGTH } from './member-token.js';

/*
 * What a QR scan is, decided before anything else looks at it. Nothing reaches the booking
 * platform unless it has the exact shape of a visitor registration code, so a crafted QR code
 * (a URL, JSON, a megabyte of text) is refused here and never leaves the gateway.
 */

export type QrPayload =
  | { kind: 'visitor'; code: string }
  | { kind: 'member'; token: string }
  | { kind: 'garbage'; reason: 'too_long' | 'empty' | 'bad_charset' | 'unknown_shape' };

/** Longest payload looked at; anything longer is refused without further parsing. */
export const MAX_QR_PAYLOAD = 256;
export const VISITOR_CODE_MIN = 4;
export const VISITOR_CODE_MAX = 32;

/** Upper-case letters and digits in groups joined by single dashes, e.g. V7K2-99QX. */
const VISITOR_CODE = /^[A-Z0-9]+(?:-[A-Z0-9]+)*$/;
const MEMBER_TOKEN_CHARS = /^[A-Za-z0-9_.-]+$/;
/**
 * Version 1 tokens (55 chars) named the person by the issuing gateway's row id, which is
 * another person at a second gateway. They are classified as member tokens so that the
 * decision says token_invalid (what they are) rather than malformed_read; verification then
 * refuses them like any token of an unknown version.
 */
const LEGACY_PREFIX = 'LT1.';
const LEGACY_LENGTH = 55;

const GARBAGE_EMPTY = Object.freeze({ kind: 'garbage', reason: 'empty' } as const);
const GARBAGE_TOO_LONG = Object.freeze({ kind: 'garbage', reason: 'too_long' } as const);
const GARBAGE_CHARSET = Object.freeze({ kind: 'garbage', reason: 'bad_charset' } as const);
const GARBAGE_SHAPE = Object.freeze({ kind: 'garbage', reason: 'unknown_shape' } as const);

function printableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/**
 * Member tokens keep their case (base64url is case-sensitive). Visitor codes are upper-cased:
 * a keyboard-wedge scanner on a host with caps lock on, or one set to "invert case", sends
 * `v7k2-99qx` for `V7K2-99QX`, and the platform's codes are upper-case only.
 */
export function classifyQrPayload(payload: string): QrPayload {
  // Scanners add stray spaces or CR around the content; inner whitespace is not trimmed.
  const text = payload.trim();
  if (text.length === 0) return GARBAGE_EMPTY;
  if (text.length > MAX_QR_PAYLOAD) return GARBAGE_TOO_LONG;
  if (!printableAscii(text)) return GARBAGE_CHARSET;
  if (text.startsWith(LEGACY_PREFIX) && text.length === LEGACY_LENGTH && MEMBER_TOKEN_CHARS.test(text)) {
    return { kind: 'member', token: text };
  }
  if (text.startsWith(MEMBER_TOKEN_PREFIX)) {
    if (text.length !== MEMBER_TOKEN_LENGTH || !MEMBER_TOKEN_CHARS.test(text)) return GARBAGE_SHAPE;
    return { kind: 'member', token: text };
  }
  const code = text.toUpperCase();
  if (code.length < VISITOR_CODE_MIN || code.length > VISITOR_CODE_MAX) return GARBAGE_SHAPE;
  if (!VISITOR_CODE.test(code)) return GARBAGE_SHAPE;
  return { kind: 'visitor', code };
}

/**
 * Whether a scan could be a card number in any notation a card reader emits: decimal, a hex
 * UID (with or without `0x`, whole bytes separated by `:`, ` ` or `-`), a hex or binary
 * Wiegand frame. Every one of those is a valid `hex-msb` read, so that parse is the test.
 *
 * An `auto` reader asks this before treating a scan its card format refused as a QR payload:
 * upper-case hex is also a well-formed visitor code, and a card number must never be sent to
 * the booking platform. The price: on an `auto` reader, a visitor code made only of 0-9, A-F
 * (and byte-wise dashes) cannot be used; a `qr` reader takes it.
 */
export function looksLikeCardNumber(scan: string): boolean {
  return parseCardRead(scan, 'hex-msb').ok;
}
