import type { Context } from 'hono';
import type { Clock } from '../../util/clock.js';

/*
 * Failed logins, counted per client IP and per account name: after `freeFailures` the key is
 * locked out for base·2^(failures−free) (capped), answered 429 with Retry-After. Every attempt
 * counts as a failure when it starts, before its scrypt runs, so a burst of parallel guesses is
 * refused as soon as the count is reached, not after all of them have been checked. A success
 * clears the account's count and takes back only its own attempt from the IP's (one colleague's
 * correct login must not wipe the record of a guesser at the same NAT address).
 */

export interface LoginLimits {
  freeFailures: number;
  baseLockoutMs: number;
  maxLockoutMs: number;
  /** Keys beyond this are dropped oldest first (a spray of names cannot grow memory without bound). */
  maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { freeFailures: 5, baseLockoutMs: 15_000, maxLockoutMs: 15 * 60_000, maxKeys: 10_000 };

interface Entry {
  failures: number;
  lockedUntil: number;
}

export type Attempt = { ok: true; keys: string[] } | { ok: false; retryAfterSec: number };

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  /** Starts an attempt from `ip` for `name`: refused while either is locked out, else counted. */
  begin(ip: string, name: string): Attempt {
    const now = this.clock.now();
    const keys = [`ip:${ip}`, `name:${name}`];
    const until = Math.max(...keys.map((k) => this.entries.get(k)?.lockedUntil ?? 0));
    if (until > now) return { ok: false, retryAfterSec: Math.max(1, Math.ceil((until - now) / 1000)) };
    for (const k of keys) this.count(k, now);
    return { ok: true, keys };
  }

  /** The attempt's password was right. */
  succeeded(attempt: { keys: string[] }): void {
    const [ip, name] = attempt.keys as [string, string];
    this.entries.delete(name);
    const e = this.entries.get(ip);
    if (!e) return;
    e.failures -= 1;
    if (e.failures < this.limits.freeFailures) e.lockedUntil = 0;
    if (e.failures <= 0) this.entries.delete(ip);
  }

  private count(k: string, now: number): void {
    const e = this.entries.get(k) ?? { failures: 0, lockedUntil: 0 };
    this.entries.delete(k); // re-inserted last: the map's order is least recently failed first
    e.failures += 1;
    const over = e.failures - this.limits.freeFailures;
    if (over >= 0) e.lockedUntil = now + Math.min(this.limits.maxLockoutMs, this.limits.baseLockoutMs * 2 ** Math.min(over, 30));
    this.entries.set(k, e);
    while (this.entries.size > this.limits.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }
}

type NodeBindings = { incoming?: { socket?: { remoteAddress?: string } } };

/**
 * The client's address: the socket's peer. Behind a TLS proxy (http.behindTlsProxy) every peer
 * is the proxy, so the last X-Forwarded-For hop, the one the proxy itself appended, is taken
 * instead. A client that reaches the gateway past the proxy can write that header itself and
 * dodge the per-address count; the per-account count still holds, and README's proxy example
 * binds the gateway to loopback so that nobody can.
 */
export function clientIp(c: Context, behindTlsProxy: boolean): string {
  const peer = (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress ?? 'unknown';
  if (!behindTlsProxy) return peer;
  const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return hops.at(-1) ?? peer;
}
