import {
  KEY_CAPS_LOCK,
  KEY_ENTER,
  KEY_ERROR_ROLLOVER,
  KEY_ERROR_UNDEFINED,
  KEY_KEYPAD_ENTER,
  KEY_NONE,
  KEY_TAB,
  MOD_LEFT_SHIFT,
  MOD_NON_TEXT,
  MOD_RIGHT_SHIFT,
  charForUsage,
  isModifierUsage,
} from './keyboard-usage.js';

export interface KeyboardDecoderOptions {
  /** `enter`: Enter or keypad Enter ends a line; `tab`: Tab does. */
  terminator: 'enter' | 'tab';
  maxLineLength: number;
  /** When set, each report starts with this report id; reports with another id are ignored. */
  reportId?: number | undefined;
  onLine: (line: string) => void;
  /** Told the kind and length of a dropped line, never its content. */
  onDrop?: (kind: 'overlong' | 'garbage', length: number) => void;
}

export interface KeyboardDecoderCounters {
  reports: number;
  lines: number;
  /** Lines longer than maxLineLength, dropped. */
  overlong: number;
  /** Lines with a key that types no US-layout character (or a Ctrl/Alt/GUI chord), dropped. */
  garbage: number;
  unknownKeys: number;
  /** Phantom-state reports (ErrorRollOver and friends), ignored. */
  rollover: number;
  /** Reports too short to be a boot keyboard report. */
  malformed: number;
  /** Reports with another report id (e.g. a scanner's consumer-control collection). */
  foreignReports: number;
}

const BOOT_REPORT_BYTES = 8;
const KEY_SLOTS = 6;

/**
 * Incremental decoder of USB boot-keyboard reports (modifier, reserved, 6 key slots) into lines.
 * A report is the set of keys held *now*; a key types its character when it appears in a report
 * and was not held in the previous one. So a key held across reports types once, and the same
 * key typed twice needs a report without it in between — exactly how a keyboard-wedge reader
 * types "11". A line containing anything that is not plain text is dropped whole (fail closed:
 * a half-decoded card number must not match someone else's card).
 */
export class KeyboardDecoder {
  readonly counters: KeyboardDecoderCounters = {
    reports: 0,
    lines: 0,
    overlong: 0,
    garbage: 0,
    unknownKeys: 0,
    rollover: 0,
    malformed: 0,
    foreignReports: 0,
  };
  private readonly held = new Uint8Array(KEY_SLOTS);
  private heldCount = 0;
  private readonly current = new Uint8Array(KEY_SLOTS);
  private line = '';
  /** Characters typed into the current line, including those past maxLineLength. */
  private length = 0;
  private tainted = false;
  private readonly terminatorKeys: ReadonlySet<number>;

  constructor(private readonly opts: KeyboardDecoderOptions) {
    this.terminatorKeys = new Set(opts.terminator === 'enter' ? [KEY_ENTER, KEY_KEYPAD_ENTER] : [KEY_TAB]);
  }

  push(report: Uint8Array): void {
    this.counters.reports++;
    let offset = 0;
    if (this.opts.reportId !== undefined) {
      if (report[0] !== this.opts.reportId) {
        this.counters.foreignReports++;
        return;
      }
      offset = 1;
    }
    if (report.length - offset < BOOT_REPORT_BYTES) {
      this.counters.malformed++;
      return;
    }
    const modifiers = report[offset]!;
    let count = 0;
    for (let i = 0; i < KEY_SLOTS; i++) {
      const usage = report[offset + 2 + i]!;
      if (usage === KEY_NONE) continue;
      // Too many keys at once: the report says nothing reliable about which are held.
      if (usage >= KEY_ERROR_ROLLOVER && usage <= KEY_ERROR_UNDEFINED) {
        this.counters.rollover++;
        return;
      }
      this.current[count++] = usage;
    }
    for (let i = 0; i < count; i++) {
      const usage = this.current[i]!;
      if (!this.wasHeld(usage)) this.press(usage, modifiers);
    }
    this.held.set(this.current);
    this.heldCount = count;
  }

  /** Forgets held keys and any partial line (a new connection starts clean). */
  reset(): void {
    this.heldCount = 0;
    this.clearLine();
  }

  private wasHeld(usage: number): boolean {
    for (let i = 0; i < this.heldCount; i++) if (this.held[i] === usage) return true;
    return false;
  }

  private press(usage: number, modifiers: number): void {
    if (isModifierUsage(usage) || usage === KEY_CAPS_LOCK) return;
    if (this.terminatorKeys.has(usage)) return this.endLine();
    if (usage === KEY_ENTER || usage === KEY_KEYPAD_ENTER || usage === KEY_TAB) {
      // A second suffix key (Tab then Enter) after the line ended is harmless; inside a line it is not text.
      if (this.length > 0 || this.tainted) this.tainted = true;
      return;
    }
    const ch = (modifiers & MOD_NON_TEXT) === 0 ? charForUsage(usage, (modifiers & (MOD_LEFT_SHIFT | MOD_RIGHT_SHIFT)) !== 0) : undefined;
    if (ch === undefined) {
      this.counters.unknownKeys++;
      this.tainted = true;
      return;
    }
    this.length++;
    if (this.length <= this.opts.maxLineLength) this.line += ch;
  }

  private endLine(): void {
    const { line, length, tainted } = this;
    this.clearLine();
    if (length === 0 && !tainted) return;
    if (length > this.opts.maxLineLength) {
      this.counters.overlong++;
      this.opts.onDrop?.('overlong', length);
    } else if (tainted) {
      this.counters.garbage++;
      this.opts.onDrop?.('garbage', length);
    } else {
      this.counters.lines++;
      this.opts.onLine(line);
    }
  }

  private clearLine(): void {
    this.line = '';
    this.length = 0;
    this.tainted = false;
  }
}
