/*
 * The seam every badge reader sits behind (serial, USB HID keyboard-wedge, stdin): the
 * composition root starts and stops them and shows their status; each delivers clean lines
 * to a LineHandler and nothing else. Line hygiene — which lines are dropped and how that is
 * counted — lives here once so all reader kinds behave the same.
 */

export interface ReaderStatus {
  id: string;
  kind: 'serial' | 'hid' | 'stdin';
  /** The device (or stream) is open and being read. */
  connected: boolean;
  /** Lines delivered to the handler (dropped and empty lines are not counted). */
  lines: number;
  dropped: { overlong: number; garbage: number };
  /** Times the device was opened again after it was lost or failed to open. */
  reconnects: number;
  /** Why the reader is (or last was) not connected; never contains line content. */
  lastError: string | null;
}

/** A status from a reader's line counters and its reconnect state. */
export function readerStatus(
  id: string,
  kind: ReaderStatus['kind'],
  connected: boolean,
  counters: { lines: number; overlong: number; garbage: number },
  link: { reconnects: number; lastError: string | null },
): ReaderStatus {
  return {
    id,
    kind,
    connected,
    lines: counters.lines,
    dropped: { overlong: counters.overlong, garbage: counters.garbage },
    reconnects: link.reconnects,
    lastError: link.lastError,
  };
}

export interface ReaderSource {
  readonly id: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): ReaderStatus;
}

export type LineHandler = (line: string) => void;

export type Terminator = 'lf' | 'cr' | 'crlf' | 'tab';

const TERMINATOR_BYTES: Readonly<Record<Terminator, string>> = {
  lf: '\n',
  cr: '\r',
  crlf: '\r\n',
  tab: '\t',
};

export function terminatorBytes(terminator: Terminator): Buffer {
  return Buffer.from(TERMINATOR_BYTES[terminator], 'latin1');
}

export interface LineCounters {
  lines: number;
  overlong: number;
  garbage: number;
}

/** Printable ASCII only: card numbers, hex UIDs, Wiegand bits and QR payloads are all ASCII. */
function isPrintableAscii(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/**
 * Applies the drop rules to each raw line and forwards the rest. Lines were decoded as
 * latin1, so one char is one byte and binary noise shows up as chars outside 0x20..0x7e.
 */
export class LineIntake {
  readonly counters: LineCounters = { lines: 0, overlong: 0, garbage: 0 };

  constructor(
    private readonly opts: {
      maxLineLength: number;
      terminator: Terminator;
      onLine: LineHandler;
      /** Told the kind and length of every dropped line — never its content (a card number). */
      onDrop?: (kind: 'overlong' | 'garbage', length: number) => void;
    },
  ) {}

  accept(raw: string): void {
    let line = raw;
    // Many readers end lines with CRLF; with `lf` configured, the CR is line-ending noise,
    // not content, and rejecting every read as garbage would lock the door for no reason.
    if (this.opts.terminator === 'lf' && line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) return;
    if (line.length > this.opts.maxLineLength) {
      this.counters.overlong++;
      this.opts.onDrop?.('overlong', line.length);
      return;
    }
    if (!isPrintableAscii(line)) {
      this.counters.garbage++;
      this.opts.onDrop?.('garbage', line.length);
      return;
    }
    this.counters.lines++;
    this.opts.onLine(line);
  }
}
