/**
 * The lifetime rules of a subscription (upstream-api.md §3; docs/upstream.md, "Subscription
 * renewal"), pure: how long we believe one lives and when we renew it.
 */

/** Spec §3: a subscription lives at most 7 days after creation. */
export const MAX_SUBSCRIPTION_MS = 7 * 86_400_000;

/**
 * The longest renewBeforeSec the config accepts: half of the spec's 7 days. More would be cut
 * to half-life (renewAt) even on a subscription of the full length, and never honoured.
 */
export const MAX_RENEW_BEFORE_SEC = MAX_SUBSCRIPTION_MS / 2000;

/**
 * The expiry we plan with. A platform that promises more than the spec allows (or something
 * unreadable) is held to 7 days: we renew on that schedule, and the old secret stops being
 * accepted by then instead of whenever the platform said. `createdAt` should be when the create
 * was sent: the earliest the platform can have created it.
 */
export function plannedExpiry(promised: number, createdAt: number): number {
  const limit = createdAt + MAX_SUBSCRIPTION_MS;
  return Number.isFinite(promised) && promised <= limit ? promised : limit;
}

/** How far past send + 7 days a promised expiry may lie before it is reported as a broken promise. */
export const PROMISE_SKEW_MS = 60_000;

/**
 * Whether a promised expiry breaks the spec's 7 days, for the warning. A few ms or seconds past
 * send + 7 days is the platform's own creation instant (or clock skew): planned with
 * (plannedExpiry), not worth a line at every start. More, or something unreadable, is a
 * platform breaking the contract.
 */
export function brokenLifetimePromise(promised: number, createdAt: number): boolean {
  return !(promised - (createdAt + MAX_SUBSCRIPTION_MS) <= PROMISE_SKEW_MS);
}

/**
 * When a subscription is renewed: `renewBefore` ahead of its expiry, but never earlier than half
 * way through its life. A platform that grants lifetimes shorter than twice renewBeforeSec (the
 * config cannot know them) would otherwise have us renew at once after every create, forever.
 * Half the lifetime still leaves the other half for retries before it lapses.
 */
export function renewAt(s: { createdAt: number; expiresAt: number }, renewBeforeMs: number): number {
  return s.expiresAt - Math.min(renewBeforeMs, (s.expiresAt - s.createdAt) / 2);
}

/** What renewAt cut, for the warning that says so; null when renewBeforeSec is honoured. */
export function renewalClamp(createdAt: number, expiresAt: number, renewBeforeMs: number): { lifetimeSec: number; renewBeforeSec: number; renewAtSec: number } | null {
  const lifetime = expiresAt - createdAt;
  if (renewBeforeMs <= lifetime / 2) return null;
  return { lifetimeSec: Math.round(lifetime / 1000), renewBeforeSec: Math.round(renewBeforeMs / 1000), renewAtSec: Math.round(lifetime / 2000) };
}
