import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS } from '../../src/config/schema.js';
import { encodeWiegand, normalizeImportedCard, parseCardRead, type WiegandFormat } from '../../src/readers/card-formats.js';

/** Field widths as published for each format (H10301, 34-bit, H10304). */
const WIDTHS: Record<WiegandFormat, { fc: number; cn: number }> = {
  wiegand26: { fc: 8, cn: 16 },
  wiegand34: { fc: 16, cn: 16 },
  wiegand37: { fc: 16, cn: 19 },
};
const FORMATS = Object.keys(WIDTHS) as WiegandFormat[];

const card = (format: WiegandFormat) =>
  fc.record({
    facility: fc.integer({ min: 0, max: 2 ** WIDTHS[format].fc - 1 }),
    number: fc.integer({ min: 0, max: 2 ** WIDTHS[format].cn - 1 }),
  });

describe.each(FORMATS)('%s properties', (format) => {
  it('encode → parse gives FC·2^cnBits + CN, as bits, as hex and as FC:CN', () => {
    fc.assert(
      fc.property(card(format), ({ facility, number }) => {
        const expected = { ok: true, number: String(facility * 2 ** WIDTHS[format].cn + number) };
        const frame = encodeWiegand(format, facility, number);
        expect(frame).toHaveLength(2 + WIDTHS[format].fc + WIDTHS[format].cn);
        expect(parseCardRead(frame, format)).toEqual(expected);
        expect(parseCardRead(BigInt(`0b${frame}`).toString(16), format)).toEqual(expected);
        expect(normalizeImportedCard(`${facility}:${number}`, format)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('every single flipped bit is bad parity', () => {
    fc.assert(
      fc.property(card(format), ({ facility, number }) => {
        const frame = encodeWiegand(format, facility, number);
        for (let i = 0; i < frame.length; i++) {
          const flipped = `${frame.slice(0, i)}${frame[i] === '0' ? '1' : '0'}${frame.slice(i + 1)}`;
          expect(parseCardRead(flipped, format), `bit ${i}`).toEqual({ ok: false, reason: 'bad_parity' });
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('UID and decimal properties', () => {
  const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

  it('hex-msb, hex-lsb of the reversed bytes and decimal of the value agree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 }), (bytes) => {
        const value = BigInt(`0x${hex(bytes)}`).toString();
        const expected = { ok: true, number: value };
        expect(parseCardRead(hex(bytes), 'hex-msb')).toEqual(expected);
        expect(parseCardRead(hex(bytes).toUpperCase().match(/../g)!.join(':'), 'hex-msb')).toEqual(expected);
        expect(parseCardRead(hex(bytes.slice().reverse()), 'hex-lsb')).toEqual(expected);
        if (value.length <= 20) expect(parseCardRead(value.padStart(20, '0'), 'decimal')).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('raw-bits is the value of the bits', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('0', '1'), { minLength: 1, maxLength: 128 }), (bits) => {
        const s = bits.join('');
        expect(parseCardRead(s, 'raw-bits')).toEqual({ ok: true, number: BigInt(`0b${s}`).toString() });
      }),
      { numRuns: 300 },
    );
  });

  it('never throws and always answers with a canonical number or a known reason', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.constantFrom(...CARD_FORMATS), (line, format) => {
        for (const result of [parseCardRead(line, format), normalizeImportedCard(line, format)]) {
          if (result.ok) expect(result.number).toMatch(/^(0|[1-9][0-9]*)$/);
          else expect(['bad_parity', 'malformed_read']).toContain(result.reason);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
