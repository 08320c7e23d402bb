import type { DoorConfig } from '../config/schema.js';
import { classifyQrPayload, looksLikeCardNumber } from '../qr/classify.js';

/** Where one typed line goes: a door's card reader or QR scanner, a demo command, or nowhere. */
export type Routed =
  | { to: 'card' | 'qr'; doorId: string; text: string }
  | { to: 'command'; line: string }
  | { to: 'none'; message: string | null };

/**
 * The demo's terminal stands in for every door's card reader and QR scanner at once, so each
 * typed line is routed before anything reads it:
 * - a card number goes to the current door's card reader;
 * - `/scan PAYLOAD` goes to its QR scanner, and so does a pasted member token (LT2.…), whose
 *   shape is neither a card's nor a visitor code's;
 * - `/door NAME` picks the door from now on, `@NAME …` for one line;
 * - anything else is not sent at all. A word typed by mistake upper-cases to a well-formed
 *   visitor code ("hello" → HELLO), and a real scanner would have sent it to the booking
 *   platform; here the person at the keyboard is told what to type instead.
 */
export class ConsoleRouter {
  private current: string;

  constructor(private readonly doors: readonly Pick<DoorConfig, 'id' | 'name'>[]) {
    if (doors.length === 0) throw new Error('the demo needs a door');
    this.current = doors[0]!.id;
  }

  get door(): string {
    return this.current;
  }

  route(line: string): Routed {
    const text = line.trim();
    if (text === '') return { to: 'none', message: null };
    if (text.startsWith('@')) {
      const [name = '', ...rest] = text.slice(1).split(/\s+/);
      const door = this.find(name);
      if (!door) return { to: 'none', message: `no door "${clip(name)}"; doors: ${this.names()}` };
      return this.routeAt(door, rest.join(' '));
    }
    if (/^\/door(\s|$)/.test(text)) {
      const name = text.slice('/door'.length).trim();
      if (name === '') return { to: 'none', message: `reading at door ${this.describe(this.current)}; doors: ${this.names()}` };
      const door = this.find(name);
      if (!door) return { to: 'none', message: `no door "${clip(name)}"; doors: ${this.names()}` };
      this.current = door;
      return { to: 'none', message: `reading at door ${this.describe(door)} from now on` };
    }
    return this.routeAt(this.current, text);
  }

  private routeAt(doorId: string, text: string): Routed {
    if (text === '') return { to: 'none', message: 'nothing to read after the door name' };
    if (/^\/scan(\s|$)/.test(text)) {
      const payload = text.slice('/scan'.length).trim();
      if (payload === '') return { to: 'none', message: 'usage: /scan CODE (a visitor code or a member QR token)' };
      return { to: 'qr', doorId, text: payload };
    }
    if (text.startsWith('/')) return { to: 'command', line: text };
    if (classifyQrPayload(text).kind === 'member') return { to: 'qr', doorId, text };
    if (looksLikeCardNumber(text)) return { to: 'card', doorId, text };
    // Visitor codes mix letters and digits (V7K2-99QX); a plain word gets the general hint.
    const codeLike = classifyQrPayload(text).kind === 'visitor' && /\d/.test(text) && /[a-z]/i.test(text);
    const hint = codeLike ? `; if it is a visitor code, scan it: /scan ${clip(text)}` : '; type a card number (e.g. 1001), or /help';
    return { to: 'none', message: `"${clip(text)}" is not a card number, not sent${hint}` };
  }

  private find(name: string): string | undefined {
    const n = name.toLowerCase();
    return this.doors.find((d) => d.id.toLowerCase() === n || d.name?.toLowerCase() === n)?.id;
  }

  private describe(doorId: string): string {
    const name = this.doors.find((d) => d.id === doorId)?.name;
    return name ? `${doorId} (${name})` : doorId;
  }

  private names(): string {
    return this.doors.map((d) => d.id).join(', ');
  }
}

function clip(s: string): string {
  return s.length > 32 ? `${s.slice(0, 32)}…` : s;
}
