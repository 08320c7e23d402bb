import { describe, expect, it } from 'vitest';
import { maskCredential } from '../../src/util/mask.js';

/*
 * With a known facility code, the last 4 digits of a 26-bit card number leave about 7
 * candidate cards (65536 card numbers / 10^4); the last 2 leave ~655. Two digits still tell
 * two cards in the recent list apart most of the time, which is all an operator needs.
 */
describe('maskCredential', () => {
  it('shows at most the last 2 characters', () => {
    expect(maskCredential('7340861')).toBe('*****61');
    expect(maskCredential('8106606')).toBe('*****06');
    expect(maskCredential('123')).toBe('*23');
    expect(maskCredential('V7K2-99QX')).toBe('*******QX');
  });

  it('shows nothing of a credential of 2 characters or fewer, and caps the stars', () => {
    expect(maskCredential('42')).toBe('**');
    expect(maskCredential('7')).toBe('*');
    expect(maskCredential('')).toBe('');
    expect(maskCredential('123456789012345678901')).toBe('********01');
  });

  it('never reveals more than 2 characters of any input', () => {
    for (let len = 0; len < 40; len++) {
      const value = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEF'.slice(0, len);
      const shown = maskCredential(value).replace(/\*/g, '');
      expect(shown.length, value).toBeLessThanOrEqual(2);
    }
  });
});
