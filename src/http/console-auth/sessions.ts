import { createHash, randomBytes } from 'node:crypto';
import type { Operator } from '../../console/operator.js';
import type { Clock } from '../../util/clock.js';

/*
 * Console sessions, in memory only: a restart signs everyone out (README "Security"). Nothing
 * about a session touches the disk, so a login never waits on SQLite and a copy of the database
 * holds no live session. The id is 32 random bytes; the map is keyed by its SHA-256, so the
 * lookup's timing depends on a digest the caller cannot steer, not on the presented id.
 */

export interface Session {
  operator: Operator;
  /** Every state-changing form of this session carries it back (requireCsrf). */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  /** Which password signed it in (passwordStamp): a new password (`lintel operator passwd`) ends it. */
  stamp: string;
}

export interface SessionLimits {
  /** Signed out after this long without a request. */
  idleMs: number;
  /** Signed out this long after sign-in, however active. */
  absoluteMs: number;
  /** Past this many live sessions the oldest is dropped: a login flood cannot grow memory without bound. */
  maxSessions: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000, maxSessions: 1000 };

const key = (id: string): string => createHash('sha256').update(id).digest('base64url');
/** A digest of the account's stored hash: the session keeps no copy of the hash itself. */
export const passwordStamp = (passwordHash: string): string => createHash('sha256').update(passwordHash).digest('base64url');
const randomToken = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  /** Insertion order is sign-in order: the first entry is the oldest. */
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {}

  /** A new session with a fresh id and CSRF token; the id is returned once, for the cookie. */
  create(operator: Operator, stamp: string): { id: string; session: Session } {
    this.sweep();
    while (this.sessions.size >= this.limits.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    const now = this.clock.now();
    const id = randomToken();
    const session: Session = { operator: { name: operator.name, role: operator.role }, csrf: randomToken(), createdAt: now, lastSeenAt: now, stamp };
    this.sessions.set(key(id), session);
    return { id, session };
  }

  /** The live session of `id`, its idle time reset; null (and forgotten) when unknown or expired. */
  touch(id: string): Session | null {
    const k = key(id);
    const s = this.sessions.get(k);
    if (!s) return null;
    const now = this.clock.now();
    if (this.expired(s, now)) {
      this.sessions.delete(k);
      return null;
    }
    s.lastSeenAt = now;
    return s;
  }

  destroy(id: string): void {
    this.sessions.delete(key(id));
  }

  size(): number {
    return this.sessions.size;
  }

  private expired(s: Session, now: number): boolean {
    return now - s.lastSeenAt >= this.limits.idleMs || now - s.createdAt >= this.limits.absoluteMs;
  }

  /** Drops expired sessions; run at each sign-in, so no timer is needed to keep the map small. */
  private sweep(): void {
    const now = this.clock.now();
    for (const [k, s] of this.sessions) if (this.expired(s, now)) this.sessions.delete(k);
  }
}
