import type { GrantSource } from '../access/grant-source.js';

/** A fixed-size ring of the latest decisions for the status page (masked numbers only). */
export interface DecisionEvent {
  at: number;
  readerId: string;
  doorId: string;
  credential: string;
  kind: 'card' | 'member-qr' | 'visitor-qr' | 'garbage';
  result: 'granted' | 'denied';
  reason: string;
  relay: 'sent' | 'unreachable' | 'expired' | 'none';
  /** Which source's window granted (booking, staff, ...); present on granted decisions that have one. */
  source?: GrantSource | null;
}

/** A decision with the local person id beside it: in-process only (the console looks names up with it). */
export interface DecisionWithPerson {
  readonly event: DecisionEvent;
  readonly personId: number | null;
}

export class RecentDecisions {
  private readonly items: DecisionWithPerson[] = [];

  constructor(private readonly capacity = 50) {}

  /** The person id is kept beside the event, never in it: list() (the page, /api/status) cannot leak it. */
  push(e: DecisionEvent, personId: number | null = null): void {
    this.items.push({ event: e, personId });
    if (this.items.length > this.capacity) this.items.shift();
  }

  /** Newest first. */
  list(): DecisionEvent[] {
    const out: DecisionEvent[] = [];
    for (let i = this.items.length - 1; i >= 0; i--) out.push(this.items[i]!.event);
    return out;
  }

  /** Newest first, with the local person id: for a signed-in operator's page, in the process. */
  listWithPeople(): DecisionWithPerson[] {
    return [...this.items].reverse();
  }
}
