import type { Clock, Timer } from '../util/clock.js';
import type { DecisionListener, DecisionRecorder, RecordedDecision } from './decision-recorder.js';

export interface FloodCollapseOptions {
  /** Denials per reader, reason and person per second that are recorded one by one. */
  perSecond: number;
}

const WINDOW_MS = 1000;

/** One reader + reason + person in the current second. */
interface Stream {
  windowStart: number;
  seen: number;
  /** The first collapsed decision of this window, carrying the count of all collapsed so far. */
  collapsed: RecordedDecision | null;
  timer: Timer | null;
}

/**
 * In front of the DecisionRecorder: a reader gone mad (line noise, a card held on the
 * antenna, a guesser during lock-out) can produce thousands of identical denials a second,
 * and one audit row, log line and status entry each would bury what matters and fill the
 * disk. Per reader, reason and person, the first `perSecond` denials of each second are
 * recorded as they are; the rest of that second become one row with a `count`, written when
 * the second ends. Nothing is lost: the counts add up to the reads. Granted decisions are
 * never collapsed: each is a door that opened for someone.
 *
 * Cost on the badge path: two map lookups and a counter; the collapsed row is built from the
 * first collapsed decision (already a fresh object) so no copy is made per read.
 */
export class FloodCollapser {
  private readonly streams = new Map<string, Map<string, Stream>>();
  /** One timer for all streams: forgets those whose second is over (a stream per denied person would otherwise stay forever). */
  private sweepTimer: Timer | null = null;

  constructor(
    private readonly recorder: Pick<DecisionRecorder, 'record' | 'onDecision'>,
    private readonly clock: Clock,
    private readonly opts: FloodCollapseOptions,
  ) {}

  onDecision(listener: DecisionListener): void {
    this.recorder.onDecision(listener);
  }

  record(d: RecordedDecision): void {
    if (d.result === 'granted') return this.recorder.record(d);
    let byReader = this.streams.get(d.readerId);
    if (byReader === undefined) {
      byReader = new Map();
      this.streams.set(d.readerId, byReader);
    }
    const key = d.personId === null ? d.reason : `${d.reason}\u0000${d.personId}`;
    let stream = byReader.get(key);
    if (stream !== undefined && d.at - stream.windowStart >= WINDOW_MS) {
      this.emit(stream);
      stream.windowStart = d.at;
      stream.seen = 0;
    }
    if (stream === undefined) {
      stream = { windowStart: d.at, seen: 0, collapsed: null, timer: null };
      byReader.set(key, stream);
      this.sweepTimer ??= this.clock.setTimeout(() => this.sweep(), WINDOW_MS);
    }
    stream.seen++;
    if (stream.seen <= this.opts.perSecond) return this.recorder.record(d);
    if (stream.collapsed === null) {
      d.count = 1;
      stream.collapsed = d;
      const s = stream;
      const readerId = d.readerId;
      stream.timer = this.clock.setTimeout(() => this.expire(readerId, key, s), Math.max(0, s.windowStart + WINDOW_MS - d.at));
      return;
    }
    stream.collapsed.count = (stream.collapsed.count ?? 1) + 1;
    // Different cards collapsed together: the row names none of them.
    if (stream.collapsed.credential !== d.credential) stream.collapsed.credential = '';
  }

  /** Writes every collapsed row now (shutdown): call before the recorder's own flush. */
  flush(): void {
    for (const byReader of this.streams.values()) for (const stream of byReader.values()) this.emit(stream);
    this.streams.clear();
    this.sweepTimer?.cancel();
    this.sweepTimer = null;
  }

  /** Reader, reason and person streams held now (for the memory bound). */
  trackedStreams(): number {
    let n = 0;
    for (const byReader of this.streams.values()) n += byReader.size;
    return n;
  }

  private sweep(): void {
    this.sweepTimer = null;
    const now = this.clock.now();
    for (const [readerId, byReader] of this.streams) {
      for (const [key, stream] of byReader) {
        if (now - stream.windowStart < WINDOW_MS) continue;
        this.emit(stream);
        byReader.delete(key);
      }
      if (byReader.size === 0) this.streams.delete(readerId);
    }
    if (this.streams.size > 0) this.sweepTimer = this.clock.setTimeout(() => this.sweep(), WINDOW_MS);
  }

  private emit(stream: Stream): void {
    stream.timer?.cancel();
    stream.timer = null;
    const row = stream.collapsed;
    stream.collapsed = null;
    if (row !== null) this.recorder.record(row);
  }

  /** The second is over: write its collapsed row and forget the stream (memory stays bounded by live readers). */
  private expire(readerId: string, key: string, stream: Stream): void {
    stream.timer = null;
    this.emit(stream);
    const byReader = this.streams.get(readerId);
    if (byReader?.get(key) === stream) {
      byReader.delete(key);
      if (byReader.size === 0) this.streams.delete(readerId);
    }
  }
}
