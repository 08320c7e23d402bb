import { randomBytes } from 'node:crypto';
import type { Clock } from '../util/clock.js';

/*
 * Enrolment ("learn mode"): an admin arms one reader for one read. The next card presented there
 * is captured instead of decided (no door opens on it), handed to the admin who armed it, and
 * can be given to a person in one step (learned.assign). The badge path asks `take()` only when
 * something is armed: one Map lookup, no allocation, when nothing is.
 */

/** How long an armed reader waits for a card before it reads normally again. */
export const LEARN_ARMED_MS = 60_000;
/** How long a captured card can be assigned before it is forgotten (it is never written anywhere until then). */
export const LEARN_KEPT_MS = 10 * 60_000;

export interface LearnedCard {
  readonly id: string;
  readonly reader: string;
  /** The canonical number as the reader's format decoded it: shown unmasked to the arming admin only. */
  readonly number: string;
  readonly format: string;
  readonly at: number;
  readonly by: string;
}

interface Armed {
  id: string;
  by: string;
  until: number;
  resolve: (card: LearnedCard | null) => void;
}

export class LearnMode {
  private readonly armed = new Map<string, Armed>();
  private readonly captured = new Map<string, LearnedCard>();

  constructor(private readonly clock: Clock) {}

  /** True while some reader is armed: the badge path's only cost when none is. */
  get active(): boolean {
    return this.armed.size > 0;
  }

  /**
   * Arms `reader` for `by`; resolves with the card read there, or null after `waitMs`. A second
   * arm of the same reader replaces the first (which resolves null): the latest admin wins.
   */
  arm(reader: string, by: string, waitMs = LEARN_ARMED_MS): { id: string; card: Promise<LearnedCard | null> } {
    this.armed.get(reader)?.resolve(null);
    const id = randomBytes(9).toString('base64url');
    const until = this.clock.now() + waitMs;
    const card = new Promise<LearnedCard | null>((resolve) => {
      const timer = this.clock.setTimeout(() => this.disarm(reader, id), waitMs);
      this.armed.set(reader, { id, by, until, resolve: (c) => { timer.cancel(); resolve(c); } });
    });
    return { id, card };
  }

  /** The badge path: consumes the read when `reader` is armed (the caller records it as learn_mode, decides nothing). */
  take(reader: string, number: string, format: string, at: number): boolean {
    const armed = this.armed.get(reader);
    if (armed === undefined || at > armed.until) return false;
    this.armed.delete(reader);
    const card: LearnedCard = { id: armed.id, reader, number, format, at, by: armed.by };
    this.forgetOld(at);
    this.captured.set(armed.id, card);
    armed.resolve(card);
    return true;
  }

  /** A captured card for its arming admin, once: assigning it forgets it. */
  claim(id: string, by: string): LearnedCard | 'not_found' | 'not_yours' {
    this.forgetOld(this.clock.now());
    const card = this.captured.get(id);
    if (card === undefined) return 'not_found';
    if (card.by !== by) return 'not_yours';
    this.captured.delete(id);
    return card;
  }

  /** Armed readers, for the status page (never the captured numbers). */
  armedReaders(): Array<{ reader: string; by: string; until: number }> {
    return [...this.armed].map(([reader, a]) => ({ reader, by: a.by, until: a.until }));
  }

  private disarm(reader: string, id: string): void {
    const armed = this.armed.get(reader);
    if (armed?.id !== id) return;
    this.armed.delete(reader);
    armed.resolve(null);
  }

  private forgetOld(now: number): void {
    for (const [id, card] of this.captured) if (now - card.at > LEARN_KEPT_MS) this.captured.delete(id);
  }
}
