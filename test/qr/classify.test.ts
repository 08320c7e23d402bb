import { describe, expect, it } from 'vitest';
import { classifyQrPayload, MAX_QR_PAYLOAD } from '../../src/qr/classify.js';

const TOKEN = 'LT2.AmMNzSkEQbDP3MiJ-2sCvSBrAr5MAQIDBAUGBwg.3HKTCVo1ZULmUh58tNVaMg';
const V1_TOKEN = 'LT1.AQAAACprAr0gawK-TAECAwQFBgcI.ytdbb-YFZ8_1o3kwB3LGuA';

describe('classifyQrPayload', () => {
  it('recognises visitor codes and upper-cases them (caps lock / inverted case scanners)', () => {
    expect(classifyQrPayload('V7K2-99QX')).toEqual({ kind: 'visitor', code: 'V7K2-99QX' });
    expect(classifyQrPayload('v7k2-99qx')).toEqual({ kind: 'visitor', code: 'V7K2-99QX' });
    expect(classifyQrPayload('  V7K2-99QX\r')).toEqual({ kind: 'visitor', code: 'V7K2-99QX' });
    expect(classifyQrPayload('ABCD')).toEqual({ kind: 'visitor', code: 'ABCD' });
    expect(classifyQrPayload('A'.repeat(32))).toEqual({ kind: 'visitor', code: 'A'.repeat(32) });
  });

  it('recognises member tokens and keeps their case', () => {
    expect(classifyQrPayload(TOKEN)).toEqual({ kind: 'member', token: TOKEN });
    expect(classifyQrPayload(`${TOKEN}x`)).toEqual({ kind: 'garbage', reason: 'unknown_shape' });
    expect(classifyQrPayload(TOKEN.toLowerCase())).toEqual({ kind: 'garbage', reason: 'unknown_shape' });
    // Version 1 is still a member token here, so that verification refuses it as token_invalid.
    expect(classifyQrPayload(V1_TOKEN)).toEqual({ kind: 'member', token: V1_TOKEN });
    expect(classifyQrPayload(`${V1_TOKEN}x`)).toEqual({ kind: 'garbage', reason: 'unknown_shape' });
  });

  it('refuses garbage with a reason, before anything could be sent upstream', () => {
    expect(classifyQrPayload('')).toEqual({ kind: 'garbage', reason: 'empty' });
    expect(classifyQrPayload('   ')).toEqual({ kind: 'garbage', reason: 'empty' });
    expect(classifyQrPayload('A'.repeat(MAX_QR_PAYLOAD + 1))).toEqual({ kind: 'garbage', reason: 'too_long' });
    expect(classifyQrPayload('V7K2\u0000-99QX')).toEqual({ kind: 'garbage', reason: 'bad_charset' });
    expect(classifyQrPayload('V7K2 99QX')).toEqual({ kind: 'garbage', reason: 'bad_charset' });
    expect(classifyQrPayload('VÄK2-99QX')).toEqual({ kind: 'garbage', reason: 'bad_charset' });
    expect(classifyQrPayload(Buffer.from([0xff, 0xfe, 0x41, 0x42]).toString('latin1'))).toEqual({ kind: 'garbage', reason: 'bad_charset' });
    for (const shape of ['ABC', 'A'.repeat(33), 'https://evil.example/?x=1', '{"a":1}', 'V7K2--99QX', '-V7K2', 'V7K2-', "V7K2'--"]) {
      expect(classifyQrPayload(shape), shape).toEqual({ kind: 'garbage', reason: 'unknown_shape' });
    }
  });
});
