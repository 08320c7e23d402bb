import { silentLogger, type Logger } from '../util/log.js';

/** `bruteForce` (QR reads) or `bruteForce.cards` (card reads) from the config. */
export interface GuardLimits {
  maxFailures: number;
  windowSec: number;
  lockoutSec: number;
}

interface ReaderFailures {
  /** ms timestamps of failures inside the current window, oldest first; at most maxFailures. */
  failures: number[];
  /** ms; reads are refused while now < lockedUntil. */
  lockedUntil: number;
  /** ms of the last event, to drop idle readers. */
  lastSeen: number;
}

/** Above this many tracked readers, idle ones are swept on the next failure. */
const SWEEP_ABOVE = 256;

/**
 * Per-reader brute-force guard, one for QR reads (in QrAccess) and one for card reads (in the
 * badge pipeline): after `maxFailures` denied reads within `windowSec`, the
 * reader is locked for `lockoutSec` and every read there is refused before any lookup (so an
 * attacker cannot use the gateway to enumerate visitor codes against the platform). Pure: time
 * is an argument. Memory is bounded by dropping readers with no live failures and no lockout.
 *
 * A granted read clears the reader's failure count. Without that, a busy lobby where a few
 * people flash expired passes would lock everyone out; the price is that someone holding one
 * valid credential gets at most maxFailures-1 guesses per door opening, each of them audited.
 */
export class FailureGuard {
  private readonly readers = new Map<string, ReaderFailures>();
  private readonly windowMs: number;
  private readonly lockoutMs: number;

  constructor(
    private readonly cfg: GuardLimits,
    private readonly logger: Logger = silentLogger,
  ) {
    this.windowMs = cfg.windowSec * 1000;
    this.lockoutMs = cfg.lockoutSec * 1000;
  }

  /** true = the read may be processed; false = refuse it with `rate_limited`. */
  check(readerId: string, now: number): boolean {
    const state = this.readers.get(readerId);
    return state === undefined || now >= state.lockedUntil;
  }

  recordFailure(readerId: string, now: number): void {
    let state = this.readers.get(readerId);
    if (state === undefined) {
      if (this.readers.size >= SWEEP_ABOVE) this.sweep(now);
      state = { failures: [], lockedUntil: 0, lastSeen: now };
      this.readers.set(readerId, state);
    }
    state.lastSeen = now;
    if (now < state.lockedUntil) return; // already locked: one lockout, one warning
    const cutoff = now - this.windowMs;
    const failures = state.failures.filter((t) => t > cutoff);
    failures.push(now);
    if (failures.length >= this.cfg.maxFailures) {
      state.failures = [];
      state.lockedUntil = now + this.lockoutMs;
      this.logger.warn(
        { reader: readerId, failures: this.cfg.maxFailures, windowSec: this.cfg.windowSec, lockoutSec: this.cfg.lockoutSec },
        'too many failed reads, reader locked',
      );
      return;
    }
    state.failures = failures;
  }

  recordSuccess(readerId: string, now: number): void {
    const state = this.readers.get(readerId);
    if (state === undefined || now < state.lockedUntil) return;
    this.readers.delete(readerId);
  }

  /** Readers locked at `now`, for the status page's alarms. */
  locks(now: number): Array<{ readerId: string; until: number }> {
    const out: Array<{ readerId: string; until: number }> = [];
    for (const [readerId, s] of this.readers) if (now < s.lockedUntil) out.push({ readerId, until: s.lockedUntil });
    return out;
  }

  /** Readers with any state (for status and for the memory bound). */
  trackedReaders(): number {
    return this.readers.size;
  }

  /** Forgets readers whose failures have all left the window and whose lockout is over. */
  sweep(now: number): void {
    const cutoff = now - this.windowMs;
    for (const [id, s] of this.readers) {
      if (now >= s.lockedUntil && s.lastSeen <= cutoff) this.readers.delete(id);
    }
  }
}
