import { errorMessage } from '../util/errors.js';
import type { SiteState } from '../access/policy/context.js';
import { decideUnknownVisit, decideVisit, decideVisitOffline, visitorDoorDenial, type VisitorDoors } from '../access/policy/visits.js';
import type { Decision } from '../access/types.js';
import { deny } from '../access/types.js';
import type { DoorConfig, VisitorsConfig } from '../config/schema.js';
import type { Db } from '../store/db.js';
import type { VisitLookup, VisitVerifier } from '../upstream/visit-lookup.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { classifyQrPayload } from '../qr/classify.js';
import { VisitCache } from '../store/visit-cache.js';

export interface VisitorGateOptions {
  /**
   * Who verifies a code: one platform, or the platform of the door's location
   * (config/locations.ts); null there means no running link for that door: the offline policy.
   */
  verifier: VisitVerifier | ((doorId: string) => VisitVerifier | null);
  db: Db;
  config: VisitorsConfig;
  doors: readonly DoorConfig[];
  deviceId: string;
  clock: Clock;
  logger: Logger;
  /** The site's state (lockdown), owned by the caller; absent: never locked down. */
  site?: SiteState;
}

const NO_LOCKDOWN: SiteState = Object.freeze({ lockdown: false });

/**
 * If the verifier does not honour its deadline (a hung socket), the visitor still gets an
 * answer: the gate gives up a little after verifyTimeoutMs and treats the platform as down.
 */
const DEADLINE_MARGIN_MS = 250;

/**
 * Visitor registration codes → door decisions (upstream-api.md section 6). The gate does the
 * I/O (the platform, the cache); what an answer means at a door is the core's
 * (src/access/policy/visits.ts).
 *
 * Online, every scan asks the platform, even when an answer is cached: a visit's status moves
 * (checked_in → checked_out) and the platform is the only one who knows. The cache is only
 * read while the platform is unreachable, and only under `offlinePolicy: allow-cached-checked-in`.
 * Codes for doors that admit no visitors are refused before any lookup, so the gateway never
 * sends a code upstream that could not open the door anyway.
 */
export class VisitorGate {
  private readonly cache: VisitCache;
  private readonly doors: VisitorDoors;

  constructor(private readonly opts: VisitorGateOptions) {
    this.cache = new VisitCache(opts.db);
    const reception = new Set(opts.config.receptionDoors);
    this.doors = {
      known: new Set(opts.doors.map((d) => d.id)),
      admitting: new Set([...opts.doors.filter((d) => d.visitors).map((d) => d.id), ...reception]),
      reception,
    };
  }

  /**
   * `readAt`: when the code was read. The visit's window is checked at that instant, not when
   * the platform answered (up to verifyTimeoutMs later); the cache is dated by the answer.
   */
  async decide(code: string, doorId: string, readAt: number = this.opts.clock.now()): Promise<Decision> {
    const classified = classifyQrPayload(code);
    if (classified.kind !== 'visitor') return deny('malformed_read');
    const refused = visitorDoorDenial(this.doors, doorId, this.opts.site ?? NO_LOCKDOWN);
    if (refused !== null) return deny(refused);

    const lookup = await this.lookup(classified.code, doorId);
    const now = this.opts.clock.now();
    switch (lookup.kind) {
      case 'found':
        // Unreadable times are never cached: the core denies them, and so must a later offline read.
        if (Number.isFinite(lookup.visit.validFrom) && Number.isFinite(lookup.visit.validTo)) this.cache.put(classified.code, lookup.visit, now);
        return decideVisit(lookup.visit, this.doors, doorId, this.opts.config.expectedPolicy, readAt);
      case 'unknown':
        this.cache.forget(classified.code);
        return decideUnknownVisit();
      case 'unreadable':
        // The platform's current answer is not one we can read as "checked in": fail closed,
        // and an older cached answer must not speak for it later.
        this.cache.forget(classified.code);
        this.opts.logger.warn({ door: doorId, error: lookup.error }, 'visitor answer does not match the contract; denied');
        return decideUnknownVisit();
      case 'unreachable':
        return this.offline(classified.code, doorId, now, readAt, lookup.error);
    }
  }

  /** Drops cached answers whose visit has ended. Also done on the way, once a minute. */
  pruneCache(now: number = this.opts.clock.now()): number {
    return this.cache.pruneExpired(now);
  }

  private offline(code: string, doorId: string, now: number, readAt: number, error: string): Decision {
    this.opts.logger.warn({ door: doorId, error, policy: this.opts.config.offlinePolicy }, 'visitor platform unreachable');
    const policy = this.opts.config.offlinePolicy;
    // The cache is not even read when the policy ignores it (the core would deny anyway).
    const cached = policy === 'allow-cached-checked-in' ? this.cache.get(code, now) : undefined;
    return decideVisitOffline(policy, cached, readAt);
  }

  private lookup(code: string, doorId: string): Promise<VisitLookup> {
    const { deviceId, config, clock } = this.opts;
    const verifier = typeof this.opts.verifier === 'function' ? this.opts.verifier(doorId) : this.opts.verifier;
    if (verifier === null) return Promise.resolve({ kind: 'unreachable', error: "no platform link for this door's location" });
    return new Promise<VisitLookup>((resolve) => {
      const deadline = clock.setTimeout(
        () => resolve({ kind: 'unreachable', error: `no answer within ${config.verifyTimeoutMs} ms` }),
        config.verifyTimeoutMs + DEADLINE_MARGIN_MS,
      );
      verifier.verifyVisit(code, deviceId, config.verifyTimeoutMs).then(
        (result) => {
          deadline.cancel();
          resolve(result);
        },
        (err: unknown) => {
          deadline.cancel();
          resolve({ kind: 'unreachable', error: errorMessage(err) });
        },
      );
    });
  }
}
