import { describe, expect, it } from 'vitest';
import type { CardFormat } from '../../src/config/schema.js';
import { encodeWiegand, normalizeImportedCard, parseCardRead } from '../../src/readers/card-formats.js';

/*
 * Known vectors, worked by hand (bit 0 = first transmitted = most significant):
 *
 * W26 FC=1 CN=1: payload 00000001 0000000000000001. Bits 1..12 hold one 1 → even parity
 *   bit 0 = 1; bits 13..24 hold one 1 → odd parity bit 25 = 0.
 *   Frame 1 00000001 0000000000000001 0 = 10000000100000000000000010; canonical 65537.
 * W26 FC=123 CN=45678 (0xB26E): bits 1..12 = 01111011 1011 → nine 1s → bit 0 = 1;
 *   bits 13..24 = 0010 0110 1110 → six 1s → bit 25 = 1.
 *   Frame 10111101110110010011011101 = 0x2F764DD; canonical 123·65536 + 45678 = 8106606.
 * W34 FC=1 CN=1: bit 0 = 1 (one 1 in bits 1..16), bit 33 = 0 (one 1 in bits 17..32).
 *   Frame value 2^33 + 2^17 + 2^1 = 8590065666; canonical 65537.
 * W37 FC=1 CN=1: bits 1..18 hold one 1 (FC's lsb at bit 16) → bit 0 = 1; bits 18..35 hold one
 *   1 (CN's lsb at bit 35) → bit 36 = 0. Canonical 2^19 + 1 = 524289.
 * W37 FC=0 CN=2^17: CN's 2^17 bit sits at bit 18, inside both parity ranges → bit 0 = 1 and
 *   bit 36 = 0. Canonical 131072.
 * UID 04 A2 2B 1A (MIFARE, byte 0 first): 0x04A22B1A = 77736730; read LSB-first it is 1A2BA204.
 */

const W26_1_1 = '10000000100000000000000010';
const W26_123_45678 = '10111101110110010011011101';
const W34_1_1 = `1${'0'.repeat(15)}1${'0'.repeat(15)}10`;
const W37_1_1 = `1${'0'.repeat(15)}1${'0'.repeat(18)}10`;
const W37_0_2P17 = `1${'0'.repeat(17)}1${'0'.repeat(17)}0`;

const read = (line: string, format: CardFormat) => parseCardRead(line, format);
const okNumber = (number: string) => ({ ok: true, number });
const MALFORMED = { ok: false, reason: 'malformed_read' };
const BAD_PARITY = { ok: false, reason: 'bad_parity' };

describe('decimal', () => {
  it('keeps the number, strips leading zeros and whitespace', () => {
    expect(read('12345678', 'decimal')).toEqual(okNumber('12345678'));
    expect(read('000123', 'decimal')).toEqual(okNumber('123'));
    expect(read('0000', 'decimal')).toEqual(okNumber('0'));
    expect(read('  42 \r\n', 'decimal')).toEqual(okNumber('42'));
    expect(read('12345678901234567890', 'decimal')).toEqual(okNumber('12345678901234567890'));
  });

  it('rejects anything else', () => {
    for (const bad of ['', '   ', '123456789012345678901', '12a', '-1', '+1', '1 2', '1.0', '１２']) {
      expect(read(bad, 'decimal'), JSON.stringify(bad)).toEqual(MALFORMED);
    }
  });
});

describe('hex-msb and hex-lsb', () => {
  it('reads a UID in every accepted spelling', () => {
    for (const uid of ['04A22B1A', '0x04a22b1a', '0X04A22B1A', '04:A2:2B:1A', '04 a2 2b 1a', '04-A2-2B-1A']) {
      expect(read(uid, 'hex-msb'), uid).toEqual(okNumber('77736730'));
    }
    for (const uid of ['1A2BA204', '1a:2b:a2:04', '0x1A2BA204']) {
      expect(read(uid, 'hex-lsb'), uid).toEqual(okNumber('77736730'));
    }
  });

  it('handles odd digit counts (msb only), zero and UIDs wider than 2^53', () => {
    expect(read('ABC', 'hex-msb')).toEqual(okNumber('2748'));
    expect(read('ABC', 'hex-lsb')).toEqual(MALFORMED);
    expect(read('0000', 'hex-msb')).toEqual(okNumber('0'));
    expect(read('04:11:22:33:44:55:66', 'hex-msb')).toEqual(okNumber('1144738493519206'));
    expect(read('0102030405060708090A0B0C0D0E0F10', 'hex-msb')).toEqual(
      okNumber('1339673755198158349044581307228491536'),
    );
  });

  it('rejects malformed hex', () => {
    const bad = ['', '0x', 'GG', '04:A2:2B1A', '04::A2', ':04', '04:', '4:A2', '04_A2', 'F'.repeat(33)];
    for (const value of bad) {
      expect(read(value, 'hex-msb'), value).toEqual(MALFORMED);
      expect(read(value, 'hex-lsb'), value).toEqual(MALFORMED);
    }
  });

  it('accepts mixed separators between whole bytes', () => {
    expect(read('04:A2 2B-1A', 'hex-msb')).toEqual(okNumber('77736730'));
  });
});

describe('Wiegand frames', () => {
  it('decodes the hand-worked vectors', () => {
    expect(read(W26_1_1, 'wiegand26')).toEqual(okNumber('65537'));
    expect(read(W26_123_45678, 'wiegand26')).toEqual(okNumber('8106606'));
    expect(read(W34_1_1, 'wiegand34')).toEqual(okNumber('65537'));
    expect(read(W37_1_1, 'wiegand37')).toEqual(okNumber('524289'));
    expect(read(W37_0_2P17, 'wiegand37')).toEqual(okNumber('131072'));
  });

  it('encodes the same vectors', () => {
    expect(encodeWiegand('wiegand26', 1, 1)).toBe(W26_1_1);
    expect(encodeWiegand('wiegand26', 123, 45678)).toBe(W26_123_45678);
    expect(encodeWiegand('wiegand34', 1, 1)).toBe(W34_1_1);
    expect(encodeWiegand('wiegand37', 1, 1)).toBe(W37_1_1);
    expect(encodeWiegand('wiegand37', 0, 131072)).toBe(W37_0_2P17);
  });

  it('reads a frame given as hex of its value', () => {
    expect(read('2F764DD', 'wiegand26')).toEqual(okNumber('8106606'));
    expect(read('0x02f764dd', 'wiegand26')).toEqual(okNumber('8106606'));
    expect(read((8590065666).toString(16), 'wiegand34')).toEqual(okNumber('65537'));
    expect(read('4000000', 'wiegand26')).toEqual(MALFORMED); // 2^26: one bit too wide
  });

  it('reports bad parity for each format', () => {
    expect(read(`0${W26_1_1.slice(1)}`, 'wiegand26')).toEqual(BAD_PARITY);
    expect(read(`${W26_1_1.slice(0, -1)}1`, 'wiegand26')).toEqual(BAD_PARITY);
    expect(read(`0${W34_1_1.slice(1)}`, 'wiegand34')).toEqual(BAD_PARITY);
    expect(read(`${W37_1_1.slice(0, -1)}1`, 'wiegand37')).toEqual(BAD_PARITY);
    expect(read('2F764DC', 'wiegand26')).toEqual(BAD_PARITY);
  });

  it('rejects frames of the wrong shape', () => {
    expect(read(W26_1_1, 'wiegand34')).toEqual(MALFORMED); // 26 binary digits read as hex: far too wide
    expect(read(`${W26_1_1.slice(0, -1)}x`, 'wiegand26')).toEqual(MALFORMED);
    expect(read('', 'wiegand37')).toEqual(MALFORMED);
    expect(read('12:3456', 'wiegand26')).toEqual(MALFORMED); // FC:CN is an import notation, not a read
  });

  it('refuses to encode out-of-range fields', () => {
    expect(() => encodeWiegand('wiegand26', 256, 0)).toThrow(RangeError);
    expect(() => encodeWiegand('wiegand26', 0, 65536)).toThrow(RangeError);
    expect(() => encodeWiegand('wiegand37', 0, 524288)).toThrow(RangeError);
    expect(() => encodeWiegand('wiegand34', -1, 0)).toThrow(RangeError);
    expect(() => encodeWiegand('wiegand34', 1.5, 0)).toThrow(RangeError);
  });
});

describe('raw-bits', () => {
  it('takes the value of all bits', () => {
    expect(read('1', 'raw-bits')).toEqual(okNumber('1'));
    expect(read('0000', 'raw-bits')).toEqual(okNumber('0'));
    expect(read('101', 'raw-bits')).toEqual(okNumber('5'));
    expect(read(`1${'0'.repeat(59)}`, 'raw-bits')).toEqual(okNumber((2n ** 59n).toString()));
    expect(read('1'.repeat(128), 'raw-bits')).toEqual(okNumber('340282366920938463463374607431768211455'));
  });

  it('rejects non-binary and over-long input', () => {
    for (const bad of ['', '102', '0b101', '1'.repeat(129), `${'1'.repeat(60)}2`]) {
      expect(read(bad, 'raw-bits'), bad).toEqual(MALFORMED);
    }
  });
});

describe('input bounds', () => {
  it('rejects long input early and never throws on garbage', () => {
    expect(read('1'.repeat(65), 'decimal')).toEqual(MALFORMED);
    expect(read(`${' '.repeat(300)}1`, 'decimal')).toEqual(MALFORMED);
    for (const format of ['decimal', 'hex-msb', 'hex-lsb', 'wiegand26', 'wiegand34', 'wiegand37', 'raw-bits'] as const) {
      expect(read('\u0000\u00ff\ud800', format)).toEqual(MALFORMED);
      expect(read('x'.repeat(5000), format)).toEqual(MALFORMED);
    }
  });
});

describe('normalizeImportedCard', () => {
  it('accepts FC:CN for Wiegand formats with range checks', () => {
    expect(normalizeImportedCard('123:45678', 'wiegand26')).toEqual(okNumber('8106606'));
    expect(normalizeImportedCard(' 012:03456 ', 'wiegand26')).toEqual(okNumber(String(12 * 65536 + 3456)));
    expect(normalizeImportedCard('255:65535', 'wiegand26')).toEqual(okNumber('16777215'));
    expect(normalizeImportedCard('65535:65535', 'wiegand34')).toEqual(okNumber('4294967295'));
    expect(normalizeImportedCard('65535:524287', 'wiegand37')).toEqual(okNumber('34359738367'));
    expect(normalizeImportedCard('0:0', 'wiegand37')).toEqual(okNumber('0'));
    const bad: [string, CardFormat][] = [
      ['256:1', 'wiegand26'],
      ['1:65536', 'wiegand26'],
      ['65536:0', 'wiegand34'],
      ['1:65536', 'wiegand34'],
      ['65536:0', 'wiegand37'],
      ['1:524288', 'wiegand37'],
      [':5', 'wiegand26'],
      ['5:', 'wiegand26'],
      ['a:b', 'wiegand26'],
      ['1:2:3', 'wiegand26'],
      ['-1:2', 'wiegand26'],
      ['12:3456', 'decimal'],
    ];
    for (const [value, format] of bad) expect(normalizeImportedCard(value, format), `${value} ${format}`).toEqual(MALFORMED);
  });

  it('otherwise behaves exactly like parseCardRead', () => {
    expect(normalizeImportedCard(W26_123_45678, 'wiegand26')).toEqual(okNumber('8106606'));
    expect(normalizeImportedCard('04:A2:2B:1A', 'hex-msb')).toEqual(okNumber('77736730'));
    expect(normalizeImportedCard('0012', 'decimal')).toEqual(okNumber('12'));
    expect(normalizeImportedCard(`0${W26_1_1.slice(1)}`, 'wiegand26')).toEqual(BAD_PARITY);
  });
});

describe('cross-format equivalence', () => {
  it('a 26-bit card matches as frame, 24-bit decimal and FC:CN import', () => {
    const viaFrame = read(W26_123_45678, 'wiegand26');
    expect(read('8106606', 'decimal')).toEqual(viaFrame);
    expect(read('08106606', 'decimal')).toEqual(viaFrame);
    expect(normalizeImportedCard('123:45678', 'wiegand26')).toEqual(viaFrame);
    expect(read('2F764DD', 'wiegand26')).toEqual(viaFrame);
  });

  it('a UID matches as hex-msb, hex-lsb and its 10-digit decimal print', () => {
    const viaMsb = read('04:A2:2B:1A', 'hex-msb');
    expect(read('1A2BA204', 'hex-lsb')).toEqual(viaMsb);
    expect(read('0077736730', 'decimal')).toEqual(viaMsb);
  });
});
