import { errorMessage } from '../util/errors.js';
import type { Decision, Reason } from '../access/types.js';
import { deny, grant } from '../access/types.js';
import type { DoorConfig, VisitorsConfig } from '../config/schema.js';
import type { Db } from '../store/db.js';
import type { VisitInfo, VisitLookup, VisitVerifier } from '../upstream/visit-lookup.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { classifyQrPayload } from '../qr/classify.js';
import { VisitCache } from './visit-cache.js';

export interface VisitorGateOptions {
  verifier: VisitVerifier;
  db: Db;
  config: VisitorsConfig;
  doors: readonly DoorConfig[];
  deviceId: string;
  clock: Clock;
  logger: Logger;
}

/**
 * If the verifier does not honour its deadline (a hung socket), the visitor still gets an
 * answer: the gate gives up a little after verifyTimeoutMs and treats the platform as down.
 */
const DEADLINE_MARGIN_MS = 250;

const STATUS_DENIAL: Readonly<Record<'checked_out' | 'cancelled', Reason>> = {
  checked_out: 'visit_checked_out',
  cancelled: 'visit_cancelled',
};

/**
 * Visitor registration codes → door decisions (upstream-api.md section 6).
 *
 * Online, every scan asks the platform, even when an answer is cached: a visit's status moves
 * (checked_in → checked_out) and the platform is the only one who knows. The cache is only
 * read while the platform is unreachable, and only under `offlinePolicy: allow-cached-checked-in`.
 * Codes for doors that admit no visitors are refused before any lookup, so the gateway never
 * sends a code upstream that could not open the door anyway.
 */
export class VisitorGate {
  private readonly cache: VisitCache;
  private readonly visitorDoors: ReadonlySet<string>;
  private readonly receptionDoors: ReadonlySet<string>;
  private readonly knownDoors: ReadonlySet<string>;

  constructor(private readonly opts: VisitorGateOptions) {
    this.cache = new VisitCache(opts.db);
    this.knownDoors = new Set(opts.doors.map((d) => d.id));
    this.receptionDoors = new Set(opts.config.receptionDoors);
    this.visitorDoors = new Set([...opts.doors.filter((d) => d.visitors).map((d) => d.id), ...this.receptionDoors]);
  }

  /**
   * `readAt`: when the code was read. The visit's window is checked at that instant, not when
   * the platform answered (up to verifyTimeoutMs later); the cache is dated by the answer.
   */
  async decide(code: string, doorId: string, readAt: number = this.opts.clock.now()): Promise<Decision> {
    const classified = classifyQrPayload(code);
    if (classified.kind !== 'visitor') return deny('malformed_read');
    if (!this.knownDoors.has(doorId)) return deny('door_unknown');
    if (!this.visitorDoors.has(doorId)) return deny('visit_door_not_allowed');

    const lookup = await this.lookup(classified.code);
    const now = this.opts.clock.now();
    switch (lookup.kind) {
      case 'found':
        // A verifier that produced unreadable times must not make every comparison false → grant.
        if (!Number.isFinite(lookup.visit.validFrom) || !Number.isFinite(lookup.visit.validTo)) return deny('visit_outside_window');
        this.cache.put(classified.code, lookup.visit, now);
        return this.fromVisit(lookup.visit, doorId, readAt);
      case 'unknown':
        this.cache.forget(classified.code);
        return deny('visit_unknown');
      case 'unreadable':
        // The platform's current answer is not one we can read as "checked in": fail closed,
        // and an older cached answer must not speak for it later.
        this.cache.forget(classified.code);
        this.opts.logger.warn({ door: doorId, error: lookup.error }, 'visitor answer does not match the contract; denied');
        return deny('visit_unknown');
      case 'unreachable':
        return this.offline(classified.code, doorId, now, readAt, lookup.error);
    }
  }

  /** Drops cached answers whose visit has ended. Also done on the way, once a minute. */
  pruneCache(now: number = this.opts.clock.now()): number {
    return this.cache.pruneExpired(now);
  }

  private fromVisit(visit: VisitInfo, doorId: string, now: number): Decision {
    if (visit.status === 'checked_out' || visit.status === 'cancelled') return deny(STATUS_DENIAL[visit.status]);
    if (now < visit.validFrom || now >= visit.validTo) return deny('visit_outside_window');
    if (visit.status === 'checked_in') return grant(null);
    // expected: not checked in yet. Only a reception gate may let them through to check in.
    const atReception = this.receptionDoors.has(doorId);
    if (this.opts.config.expectedPolicy === 'allow-at-reception' && atReception) return grant(null);
    return deny('visit_expected');
  }

  private offline(code: string, doorId: string, now: number, readAt: number, error: string): Decision {
    this.opts.logger.warn({ door: doorId, error, policy: this.opts.config.offlinePolicy }, 'visitor platform unreachable');
    if (this.opts.config.offlinePolicy !== 'allow-cached-checked-in') return deny('visit_offline_denied');
    const cached = this.cache.get(code, now);
    if (cached === undefined || cached.status !== 'checked_in') return deny('visit_offline_denied');
    if (readAt < cached.validFrom || readAt >= cached.validTo) return deny('visit_offline_denied');
    return grant(null, 'visit_offline_cached');
  }

  private lookup(code: string): Promise<VisitLookup> {
    const { verifier, deviceId, config, clock } = this.opts;
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
