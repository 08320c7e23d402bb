import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KeyboardDecoder } from '../../src/readers/hid/keyboard-decoder.js';

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixtureSchema = z.object({
  description: z.string(),
  terminator: z.enum(['enter', 'tab']),
  maxLineLength: z.number().int(),
  reportId: z.number().int().optional(),
  reports: z.array(z.string().regex(/^([0-9a-f]{2})+$/)),
  lines: z.array(z.string()),
  dropped: z.object({ overlong: z.number(), garbage: z.number() }),
});

function decode(f: z.infer<typeof fixtureSchema>): { lines: string[]; decoder: KeyboardDecoder; drops: string[] } {
  const lines: string[] = [];
  const drops: string[] = [];
  const decoder = new KeyboardDecoder({
    terminator: f.terminator,
    maxLineLength: f.maxLineLength,
    reportId: f.reportId,
    onLine: (l) => lines.push(l),
    onDrop: (kind, length) => drops.push(`${kind}:${length}`),
  });
  for (const hex of f.reports) decoder.push(Buffer.from(hex, 'hex'));
  return { lines, decoder, drops };
}

describe('keyboard decoder on recorded report sequences', () => {
  const files = readdirSync(fixtureDir).filter((f) => f.endsWith('.json'));
  it('has the fixtures', () => expect(files.length).toBeGreaterThanOrEqual(10));
  for (const file of files) {
    const f = fixtureSchema.parse(JSON.parse(readFileSync(join(fixtureDir, file), 'utf8')));
    it(`${file}: ${f.description}`, () => {
      const { lines, decoder } = decode(f);
      expect(lines).toEqual(f.lines);
      expect({ overlong: decoder.counters.overlong, garbage: decoder.counters.garbage }).toEqual(f.dropped);
      expect(decoder.counters.lines).toBe(f.lines.length);
    });
  }
});

describe('keyboard decoder details', () => {
  const base = { terminator: 'enter' as const, maxLineLength: 32 };
  const r = (mod: number, ...keys: number[]) => Uint8Array.from([mod, 0, ...keys, ...new Array<number>(6 - keys.length).fill(0)]);

  it('counts rollover reports, unknown keys and short reports', () => {
    const lines: string[] = [];
    const d = new KeyboardDecoder({ ...base, onLine: (l) => lines.push(l) });
    d.push(r(0, 1, 1, 1, 1, 1, 1));
    d.push(Uint8Array.from([0, 0, 4]));
    d.push(r(0, 0x3b));
    d.push(r(0));
    d.push(r(0, 0x28));
    expect(d.counters).toMatchObject({ rollover: 1, malformed: 1, unknownKeys: 1, garbage: 1, lines: 0, reports: 5 });
    expect(lines).toEqual([]);
  });

  it('tells a drop its kind and length, never the content', () => {
    const drops: [string, number][] = [];
    const d = new KeyboardDecoder({ ...base, maxLineLength: 3, onLine: () => undefined, onDrop: (k, n) => drops.push([k, n]) });
    for (const key of [0x1e, 0, 0x1f, 0, 0x20, 0, 0x21, 0, 0x28, 0]) d.push(r(0, ...(key ? [key] : [])));
    expect(drops).toEqual([['overlong', 4]]);
  });

  it('ignores a bare terminator and the modifier keys reported in key slots', () => {
    const lines: string[] = [];
    const d = new KeyboardDecoder({ ...base, onLine: (l) => lines.push(l) });
    d.push(r(0, 0x28));
    d.push(r(0));
    d.push(r(0x02, 0xe1));
    d.push(r(0x02, 0xe1, 0x04));
    d.push(r(0));
    d.push(r(0, 0x28));
    expect(lines).toEqual(['A']);
  });

  it('reset() drops a partial line and the held keys', () => {
    const lines: string[] = [];
    const d = new KeyboardDecoder({ ...base, onLine: (l) => lines.push(l) });
    d.push(r(0, 0x04));
    d.reset();
    d.push(r(0, 0x04)); // held before the reset, but a new connection starts clean: types again
    d.push(r(0, 0x28));
    expect(lines).toEqual(['a']);
  });

  it('property: any text typed with or without releases between keys decodes to itself', () => {
    const typable = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+[]{};:\'",.<>/?`~!@#$%^&*()|\\ ';
    const usage = (ch: string): [number, boolean] => {
      const lower = 'abcdefghijklmnopqrstuvwxyz';
      if (lower.includes(ch)) return [0x04 + lower.indexOf(ch), false];
      if (lower.toUpperCase().includes(ch)) return [0x04 + lower.toUpperCase().indexOf(ch), true];
      const pairs: [number, string][] = [
        [0x1e, '1!'], [0x1f, '2@'], [0x20, '3#'], [0x21, '4$'], [0x22, '5%'], [0x23, '6^'], [0x24, '7&'], [0x25, '8*'],
        [0x26, '9('], [0x27, '0)'], [0x2c, '  '], [0x2d, '-_'], [0x2e, '=+'], [0x2f, '[{'], [0x30, ']}'], [0x31, '\\|'],
        [0x33, ';:'], [0x34, '\'"'], [0x35, '`~'], [0x36, ',<'], [0x37, '.>'], [0x38, '/?'],
      ];
      for (const [u, p] of pairs) if (p.includes(ch)) return [u, p[1] === ch && p[0] !== ch];
      throw new Error(`not typable: ${ch}`);
    };
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...typable.split('')), { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.boolean(),
        (chars, releases, rightShift) => {
          const lines: string[] = [];
          const d = new KeyboardDecoder({ terminator: 'enter', maxLineLength: 64, onLine: (l) => lines.push(l) });
          let prev = -1;
          chars.forEach((ch, i) => {
            const [u, shift] = usage(ch);
            // Same key twice in a row must be released in between, as any real keyboard does.
            if (releases[i] || u === prev) d.push(r(0));
            d.push(r(shift ? (rightShift ? 0x20 : 0x02) : 0, u));
            prev = u;
          });
          d.push(r(0));
          d.push(r(0, 0x28));
          expect(lines).toEqual([chars.join('')]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
