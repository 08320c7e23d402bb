/**
 * Keyboard-wedge decoding throughput: boot-keyboard reports decoded per second, for a stream
 * of 10-digit card numbers and of 55-character QR tokens (shift, punctuation), each key pressed
 * and released as real readers do.
 * Run: npm run build && node dist/bench/hid-decode.js
 */
import { KeyboardDecoder } from '../src/readers/hid/keyboard-decoder.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const PUNCT: Record<string, [number, boolean]> = { '-': [0x2d, false], _: [0x2d, true], '.': [0x37, false] };

function usage(ch: string): [number, boolean] {
  const lower = LETTERS.indexOf(ch);
  if (lower >= 0) return [0x04 + lower, false];
  const upper = LETTERS.toUpperCase().indexOf(ch);
  if (upper >= 0) return [0x04 + upper, true];
  if (ch >= '1' && ch <= '9') return [0x1e + Number(ch) - 1, false];
  if (ch === '0') return [0x27, false];
  const p = PUNCT[ch];
  if (p) return p;
  throw new Error(`untypable ${ch}`);
}

function typeLine(text: string): Buffer[] {
  const reports: Buffer[] = [];
  for (const ch of text) {
    const [u, shift] = usage(ch);
    reports.push(Buffer.from([shift ? 0x02 : 0, 0, u, 0, 0, 0, 0, 0]), Buffer.alloc(8));
  }
  reports.push(Buffer.from([0, 0, 0x28, 0, 0, 0, 0, 0]), Buffer.alloc(8));
  return reports;
}

function run(label: string, lines: string[]): void {
  const reports = lines.flatMap(typeLine);
  let decoded = 0;
  const decoder = new KeyboardDecoder({ terminator: 'enter', maxLineLength: 256, onLine: () => void decoded++ });
  for (let i = 0; i < Math.min(reports.length, 50_000); i++) decoder.push(reports[i]!); // warm up
  decoded = 0;
  const rounds = 20;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (let i = 0; i < reports.length; i++) decoder.push(reports[i]!);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const total = reports.length * rounds;
  console.log(
    `  ${label.padEnd(22)} ${Math.round(total / seconds).toLocaleString()} reports/s, ` +
      `${Math.round(decoded / seconds).toLocaleString()} lines/s (${decoded.toLocaleString()} lines, ${total.toLocaleString()} reports)`,
  );
}

const cards = Array.from({ length: 10_000 }, (_, i) => String(1_000_000_000 + i * 7919));
const qrs = Array.from({ length: 2_000 }, (_, i) => `LT1.AQAAACprAr0gawK-TAECAwQFBg${String(i).padStart(4, '0')}.ytdbb-YFZ8_1o3kwB3LGuA`);
console.log('HID keyboard decoder bench (US layout, press + release per key)');
run('10-digit card numbers', cards);
run('55-char QR tokens', qrs);
