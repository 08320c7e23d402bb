import type { Clock, Timer } from '../../src/util/clock.js';

/** A deterministic clock: time moves only when the test says so. */
export class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; every: number | null; id: number }[] = [];
  private nextId = 1;

  constructor(private t = Date.parse('2026-11-22T10:00:00Z')) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, ms);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      if (due.every === null) this.timers = this.timers.filter((x) => x !== due);
      else due.at += Math.max(1, due.every);
      due.fn();
    }
    this.t = end;
  }

  pending(): number {
    return this.timers.length;
  }

  private add(fn: () => void, ms: number, every: number | null): Timer {
    const timer = { at: this.t + Math.max(0, ms), fn, every, id: this.nextId++ };
    this.timers.push(timer);
    return { cancel: () => void (this.timers = this.timers.filter((x) => x !== timer)) };
  }
}
