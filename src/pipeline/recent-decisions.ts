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
}

export class RecentDecisions {
  private readonly items: DecisionEvent[] = [];

  constructor(private readonly capacity = 50) {}

  push(e: DecisionEvent): void {
    this.items.push(e);
    if (this.items.length > this.capacity) this.items.shift();
  }

  /** Newest first. */
  list(): DecisionEvent[] {
    return [...this.items].reverse();
  }
}
