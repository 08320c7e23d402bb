/*
 * What a decision needs besides the index and the read: the site's state, owned by the caller
 * (the gateway flips `lockdown` when `lintel lockdown on` is committed), and hooks for the
 * stateful rules that live in their own classes (anti-passback, first-person-in). The core
 * reads them; it never keeps them, logs or writes anything.
 */

/** The caller's object; the core reads it at every decision, so a change applies to the next read. */
export interface SiteState {
  lockdown: boolean;
}

/**
 * Anti-passback, asked only after every other rule granted. The gateway adapts the area class
 * (src/access/policy/antipassback.ts): 'ok' (no area, or no violation), 'soft' (a violation in
 * a soft area: granted, and the decision carries the event for the caller to log), 'hard' (a
 * violation in a hard area: denied with reason `antipassback`). Committing the position after
 * the door opened stays with the caller: a granted read whose relay was unreachable moved nobody.
 */
export interface AntiPassbackHook {
  check(personId: number, readerId: string, at: number): 'ok' | 'soft' | 'hard';
}

/** First-person-in: told of every granted read, with whether the person may start a door's scheduled unlock. */
export interface FirstPersonInHook {
  onGranted(doorId: string, personIsPrivileged: boolean, at: number): void;
}

export interface PolicyContext {
  readonly site: SiteState;
  readonly antiPassback?: AntiPassbackHook | undefined;
  readonly firstPersonIn?: FirstPersonInHook | undefined;
}

/** No lockdown, no hooks: the context of callers that have none (tests, the CLI, benches). */
export const PLAIN_CONTEXT: PolicyContext = Object.freeze({ site: Object.freeze({ lockdown: false }) });
