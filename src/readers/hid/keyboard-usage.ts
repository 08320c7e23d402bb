/*
 * USB HID usage page 0x07 (Keyboard/Keypad) → characters, US layout. Keyboard-wedge badge and
 * QR readers "type" their payload, and a US layout is what they are configured for almost
 * universally (HID Usage Tables 1.4, section 10).
 */

export const KEY_ENTER = 0x28;
export const KEY_TAB = 0x2b;
export const KEY_KEYPAD_ENTER = 0x58;
export const KEY_CAPS_LOCK = 0x39;

/** Slot values that are not key presses: no key, ErrorRollOver, POSTFail, ErrorUndefined. */
export const KEY_NONE = 0x00;
export const KEY_ERROR_ROLLOVER = 0x01;
export const KEY_POST_FAIL = 0x02;
export const KEY_ERROR_UNDEFINED = 0x03;

/** Modifier byte bits. */
export const MOD_LEFT_SHIFT = 0x02;
export const MOD_RIGHT_SHIFT = 0x20;
/** Ctrl, Alt, GUI on either side: a key typed with these is a shortcut, not text. */
export const MOD_NON_TEXT = 0x01 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;

/** [unshifted, shifted]; index = usage id. Undefined entries are keys that produce no text. */
const TABLE: (readonly [string, string] | undefined)[] = new Array(256);

const letters = 'abcdefghijklmnopqrstuvwxyz';
for (let i = 0; i < letters.length; i++) {
  const c = letters[i]!;
  TABLE[0x04 + i] = [c, c.toUpperCase()];
}
const digits = '1234567890';
const shiftedDigits = '!@#$%^&*()';
for (let i = 0; i < digits.length; i++) TABLE[0x1e + i] = [digits[i]!, shiftedDigits[i]!];

const punctuation: [number, string, string][] = [
  [0x2c, ' ', ' '],
  [0x2d, '-', '_'],
  [0x2e, '=', '+'],
  [0x2f, '[', '{'],
  [0x30, ']', '}'],
  [0x31, '\\', '|'],
  [0x33, ';', ':'],
  [0x34, "'", '"'],
  [0x35, '`', '~'],
  [0x36, ',', '<'],
  [0x37, '.', '>'],
  [0x38, '/', '?'],
  // Keypad: the same character with or without shift (num lock is assumed on; readers send digits).
  [0x54, '/', '/'],
  [0x55, '*', '*'],
  [0x56, '-', '-'],
  [0x57, '+', '+'],
  [0x63, '.', '.'],
];
for (const [usage, plain, shifted] of punctuation) TABLE[usage] = [plain, shifted];
const keypadDigits = '1234567890';
for (let i = 0; i < keypadDigits.length; i++) TABLE[0x59 + i] = [keypadDigits[i]!, keypadDigits[i]!];

/** The character a key types, or undefined when it types none. */
export function charForUsage(usage: number, shifted: boolean): string | undefined {
  const entry = TABLE[usage];
  return entry === undefined ? undefined : entry[shifted ? 1 : 0];
}

/** Modifier keys can also appear in the key slots (0xE0..0xE7); the modifier byte already has them. */
export function isModifierUsage(usage: number): boolean {
  return usage >= 0xe0 && usage <= 0xe7;
}
