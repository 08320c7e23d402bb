import { deny, grant, type Decision, type Reason } from '../types.js';
import type { SiteState } from './context.js';

/*
 * The visitor rules of the decision core. Only the booking platform knows a visit's state, so
 * the visitor gate (src/visitors/visitor-gate.ts) asks it, keeps the offline cache, and hands
 * what it learnt to these pure functions, which alone say what that means at a door. The
 * order: the door (configured, admits visitors), the site's lockdown, then the visit.
 */

export type VisitState = 'expected' | 'checked_in' | 'checked_out' | 'cancelled';

/** What the platform (or the cache) says about one visit. Times in ms; the window is [from, to). */
export interface VisitFacts {
  readonly status: VisitState;
  readonly validFrom: number;
  readonly validTo: number;
}

/** The doors' side of visitor access, from the configuration. */
export interface VisitorDoors {
  readonly known: ReadonlySet<string>;
  /** Doors marked `visitors: true`, and every reception door. */
  readonly admitting: ReadonlySet<string>;
  readonly reception: ReadonlySet<string>;
}

/** expected: a visitor not yet checked in may pass a reception door (to check in) or no door. */
export type ExpectedPolicy = 'deny' | 'allow-at-reception';
/** While the platform is unreachable: deny, or admit a visit the cache last saw checked in. */
export type OfflinePolicy = 'deny' | 'allow-cached-checked-in';

const STATUS_DENIAL: Readonly<Record<'checked_out' | 'cancelled', Reason>> = {
  checked_out: 'visit_checked_out',
  cancelled: 'visit_cancelled',
};

/**
 * Before any lookup: a code for a door that could never admit a visitor is refused here, so
 * the gateway never sends a code upstream that could not open the door anyway. Null: ask.
 */
export function visitorDoorDenial(doors: VisitorDoors, doorId: string, site: SiteState): Reason | null {
  if (!doors.known.has(doorId)) return 'door_unknown';
  if (!doors.admitting.has(doorId)) return 'visit_door_not_allowed';
  // No visitor overrides a lockdown: visitors belong to no access group.
  if (site.lockdown) return 'lockdown';
  return null;
}

/** The platform answered with this visit; `readAt` is when the code was read, however late the answer came. */
export function decideVisit(visit: VisitFacts, doors: VisitorDoors, doorId: string, expectedPolicy: ExpectedPolicy, readAt: number): Decision {
  // Unreadable times must not make every comparison false and so grant.
  if (!Number.isFinite(visit.validFrom) || !Number.isFinite(visit.validTo)) return deny('visit_outside_window');
  if (visit.status === 'checked_out' || visit.status === 'cancelled') return deny(STATUS_DENIAL[visit.status]);
  if (readAt < visit.validFrom || readAt >= visit.validTo) return deny('visit_outside_window');
  if (visit.status === 'checked_in') return grant(null);
  // expected: not checked in yet. Only a reception gate may let them through to check in.
  if (expectedPolicy === 'allow-at-reception' && doors.reception.has(doorId)) return grant(null);
  return deny('visit_expected');
}

/** The platform does not know the code, or said something that is not a readable visit: no door opens. */
export function decideUnknownVisit(): Decision {
  return deny('visit_unknown');
}

/**
 * The platform could not be reached. Only under allow-cached-checked-in, and only for a visit
 * the cache last saw checked in whose window holds the read: granted with its own reason, so
 * the audit log tells offline admissions apart.
 */
export function decideVisitOffline(policy: OfflinePolicy, cached: VisitFacts | undefined, readAt: number): Decision {
  if (policy !== 'allow-cached-checked-in') return deny('visit_offline_denied');
  if (cached === undefined || cached.status !== 'checked_in') return deny('visit_offline_denied');
  if (readAt < cached.validFrom || readAt >= cached.validTo) return deny('visit_offline_denied');
  return grant(null, 'visit_offline_cached');
}
