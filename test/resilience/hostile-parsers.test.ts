import { randomBytes } from 'node:crypto';
import { ReadlineParser } from '@serialport/parser-readline';
import fc from 'fast-check';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS } from '../../src/config/schema.js';
import { classifyQrPayload, MAX_QR_PAYLOAD } from '../../src/qr/classify.js';
import { verifyMemberToken } from '../../src/qr/member-token.js';
import { parseCardRead } from '../../src/readers/card-formats.js';
import { KeyboardDecoder } from '../../src/readers/hid/keyboard-decoder.js';
import { LineLengthGuard } from '../../src/readers/line-reader.js';
import { profile } from '../helpers/resilience-profile.js';

/*
 * Hostile input, property-based, on the parsers every external byte passes first: serial
 * lines (length guard, card formats), HID boot-keyboard reports and QR payloads (classifier,
 * member-token check). No input may throw, output stays inside its stated bounds, and nothing
 * that was not signed with the key verifies. Run counts are bounded by the profile.
 */

const runs = { numRuns: profile.fuzzRuns * 4 };
const bytes = fc.uint8Array({ maxLength: 2048 });

describe('resilience: hostile input — parsers', () => {
  it('serial: the line guard never lets the parser hold more than its limit, whatever the chunks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(bytes, { maxLength: 12 }), fc.integer({ min: 8, max: 300 }), async (chunks, limit) => {
        const term = Buffer.from('\r\n');
        const guard = new LineLengthGuard(term, limit + term.length);
        const parser = new ReadlineParser({ delimiter: term, encoding: 'latin1' });
        const lines: string[] = [];
        parser.on('data', (l: string) => lines.push(l));
        guard.pipe(parser);
        let passed = 0;
        let longestRun = 0;
        guard.on('data', (b: Buffer) => {
          // Bytes the guard passes between two terminators (what the parser would buffer).
          for (const byte of b) passed = byte === 0x0a ? 0 : passed + 1;
          longestRun = Math.max(longestRun, passed);
        });
        for (const c of chunks) guard.write(Buffer.from(c));
        guard.end();
        await finished(parser);
        expect(longestRun).toBeLessThanOrEqual(limit + term.length);
        for (const l of lines) expect(l.length).toBeLessThanOrEqual(limit + term.length);
      }),
      runs,
    );
  });

  it('serial: every card format answers every line with a read or a reason, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.stringMatching(/^[0-9A-Fa-f:WwRr ]{0,80}$/)), fc.constantFrom(...CARD_FORMATS), (line, format) => {
        const r = parseCardRead(line, format);
        if (r.ok) expect(r.number).toMatch(/^[0-9A-Za-z]{1,64}$/);
        else expect(['bad_parity', 'malformed_read']).toContain(r.reason);
      }),
      runs,
    );
  });

  it('HID: random reports never throw and only emit bounded printable lines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 200 }),
        fc.constantFrom<'enter' | 'tab'>('enter', 'tab'),
        fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
        fc.integer({ min: 8, max: 64 }),
        (reports, terminator, reportId, maxLineLength) => {
          const lines: string[] = [];
          const d = new KeyboardDecoder({ terminator, reportId, maxLineLength, onLine: (l) => lines.push(l) });
          for (const r of reports) d.push(r);
          for (const l of lines) {
            expect(l.length).toBeGreaterThan(0);
            expect(l.length).toBeLessThanOrEqual(maxLineLength);
            expect(l).toMatch(/^[\x20-\x7e]+$/);
          }
          expect(d.counters.lines).toBe(lines.length);
        },
      ),
      runs,
    );
  });

  it('QR: the classifier sorts every payload and never passes more than it may look at', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.stringMatching(/^(LT1\.)?[A-Za-z0-9_.-]{0,120}$/)), (payload) => {
        const r = classifyQrPayload(payload);
        expect(['member', 'visitor', 'garbage']).toContain(r.kind);
        if (r.kind === 'member') expect(r.token.length).toBeLessThanOrEqual(MAX_QR_PAYLOAD);
        if (r.kind === 'visitor') expect(r.code).toMatch(/^[A-Z0-9]+(-[A-Z0-9]+)*$/);
      }),
      runs,
    );
  });

  it('QR: no string verifies as a member token without the key', () => {
    const key = randomBytes(32);
    const now = Date.now();
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.stringMatching(/^LT1\.[A-Za-z0-9_-]{10,40}\.[A-Za-z0-9_-]{5,30}$/)), (token) => {
        expect(verifyMemberToken(key, token, now).ok).toBe(false);
      }),
      runs,
    );
  });
});
