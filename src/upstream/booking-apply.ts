import {
  appointmentsOfResource,
  appointmentsTouching,
  deleteAppointment,
  getAppointment,
  isPushedAppointment,
  upsertAppointment,
  type AppointmentRecord,
} from '../store/appointments.js';
import type { GrantInput } from '../store/grants-repository.js';
import { normalizeEmail } from '../store/people-repository.js';
import type { DbHolder, Store, Tx } from '../store/store.js';
import { doorsOfResource } from '../store/resource-doors.js';
import { resourceTimeZones, setResourceTimeZone } from '../store/upstream-state.js';
import type { DailyList, UpstreamAppointment } from './schemas.js';
import { anyZoneDayRange, localDayRange } from './tz-dates.js';

export interface Grace {
  beforeMin: number;
  afterMin: number;
}

/** What the gateway itself knows about a resource: its doors (SQLite) and its grace (config). */
export interface BookingPolicy {
  doorsOf(resourceId: string): readonly string[];
  graceOf(resourceId: string): Grace;
  /** Whether the config names the resource: a pushed booking of any other is refused (a resource without doors yet is known). */
  knows(resourceId: string): boolean;
}

type GraceOverrides = ReadonlyMap<string, { graceBeforeMinutes?: number; graceAfterMinutes?: number }>;

/**
 * `overrides` holds every configured resource (with or without its own grace), so it is also
 * the list of known ones. `holder`: a transaction, or the store itself when the policy is built
 * before the transaction it is used in (the API): both read through the same connection.
 */
export function policyFrom(holder: DbHolder, defaults: Grace, overrides: GraceOverrides): BookingPolicy {
  // One resource's doors on demand, each read once per transaction.
  const doors = new Map<string, string[]>();
  return {
    doorsOf: (id) => {
      let list = doors.get(id);
      if (!list) doors.set(id, (list = doorsOfResource(holder, id)));
      return list;
    },
    knows: (id) => overrides.has(id),
    graceOf: (id) => {
      const o = overrides.get(id);
      return { beforeMin: o?.graceBeforeMinutes ?? defaults.beforeMin, afterMin: o?.graceAfterMinutes ?? defaults.afterMin };
    },
  };
}

export interface ApplyResult {
  appointments: number;
  changed: number;
  /** The zone the list named; absent when there was no list (a 404). */
  timeZone?: string;
}

function participantsOf(a: UpstreamAppointment): { emails: string[]; names: Map<string, string | null> } {
  const names = new Map<string, string | null>();
  for (const p of [a.organizer, ...a.attendees]) {
    if (p === null) continue;
    const email = normalizeEmail(p.email);
    if (!names.has(email)) names.set(email, p.name ?? null);
  }
  return { emails: [...names.keys()], names };
}

/** Organizer and attendees get the resource's doors from start − grace to end + grace. */
export function deriveGrants(tx: Tx, a: AppointmentRecord, policy: BookingPolicy, now: number, names?: Map<string, string | null>): void {
  if (a.status !== 'confirmed') {
    tx.grants.replaceSource('booking', a.appointmentId, []);
    return;
  }
  const grace = policy.graceOf(a.resourceId);
  const from = a.startAt - grace.beforeMin * 60_000;
  const to = a.endAt + grace.afterMin * 60_000;
  const grants: GrantInput[] = [];
  for (const email of a.participants) {
    // A participant without a card is "pending": the person exists, grants exist, and the
    // moment a card is assigned the index picks them up.
    const personId = tx.people.upsert(email, names?.get(email) ?? null, now);
    for (const doorId of policy.doorsOf(a.resourceId)) grants.push({ personId, doorId, validFrom: from, validTo: to });
  }
  tx.grants.replaceSource('booking', a.appointmentId, grants);
}

function sameBooking(x: AppointmentRecord, y: AppointmentRecord): boolean {
  return (
    x.resourceId === y.resourceId &&
    x.status === y.status &&
    x.startAt === y.startAt &&
    x.endAt === y.endAt &&
    x.participants.join('\n') === y.participants.join('\n')
  );
}

/**
 * Applies one fetched daily list inside the caller's transaction: listed appointments are
 * created, moved (also across resources) or cancelled; stored ones of this resource that touch
 * this local date but are absent from the list have vanished and lose their grants. An entry
 * older (updatedAt) than what is stored is ignored: a slower fetch of another date must not
 * undo a newer one.
 */
export function applyDailyList(tx: Tx, list: DailyList, policy: BookingPolicy, now: number): ApplyResult {
  setResourceTimeZone(tx, list.resourceId, list.timeZone, now);
  let changed = 0;
  const listed = new Set<string>();
  for (const a of list.appointments) {
    // The API's namespace (api:<bookingId>): a platform id that happens to look like one must
    // not overwrite or cancel a pushed booking, so such an entry is ignored.
    if (isPushedAppointment(a.appointmentId)) continue;
    listed.add(a.appointmentId);
    const { emails, names } = participantsOf(a);
    const next: AppointmentRecord = {
      appointmentId: a.appointmentId,
      resourceId: list.resourceId,
      status: a.status,
      startAt: Date.parse(a.start),
      endAt: Date.parse(a.end),
      participants: emails,
      updatedAt: a.updatedAt,
      fetchedAt: now,
    };
    const stored = getAppointment(tx, a.appointmentId);
    // An unknown updatedAt (null: the platform omitted it) cannot be older: applied as the latest truth.
    if (stored?.updatedAt && a.updatedAt !== null && Date.parse(a.updatedAt) < Date.parse(stored.updatedAt)) continue;
    if (stored && sameBooking(stored, next)) continue;
    // A cancelled booking stays as a tombstone (with its updatedAt) so a stale list cannot revive it.
    upsertAppointment(tx, next);
    deriveGrants(tx, next, policy, now, names);
    changed++;
  }
  changed += dropUnlisted(tx, list.resourceId, localDayRange(list.date, list.timeZone), listed);
  return { appointments: list.appointments.length, changed, timeZone: list.timeZone };
}

/**
 * Stored appointments of the resource touching the local day that the list did not name have
 * vanished: the whole appointment goes, also one across midnight that another date still lists
 * (that date's own fetch brings it back if it really is there). Returns the revoked bookings.
 */
function dropUnlisted(tx: Tx, resourceId: string, day: { start: number; end: number }, listed: ReadonlySet<string>): number {
  let changed = 0;
  for (const stored of appointmentsTouching(tx, resourceId, day.start, day.end)) {
    // A pushed booking (the API's) is never in a daily list: only its own DELETE cancels it.
    if (listed.has(stored.appointmentId) || isPushedAppointment(stored.appointmentId)) continue;
    deleteAppointment(tx, stored.appointmentId);
    tx.grants.replaceSource('booking', stored.appointmentId, []);
    if (stored.status === 'confirmed') changed++;
  }
  return changed;
}

/**
 * The platform answered 404 for the resource's daily list: it does not know the resource (a room
 * deleted there), so whatever we hold for it on that date is gone — applied exactly like an empty
 * list for that date (fail closed: a deleted room must not keep opening doors from the cache).
 * The local day is taken in the resource's last-seen zone. A database from before zones were
 * kept (migration 4) can hold its bookings with no zone: then the widest day any zone has.
 */
export function applyResourceGone(tx: Tx, resourceId: string, date: string): ApplyResult {
  const zone = resourceTimeZones(tx).get(resourceId);
  const day = zone ? localDayRange(date, zone) : anyZoneDayRange(date);
  return { appointments: 0, changed: dropUnlisted(tx, resourceId, day, new Set()) };
}

/**
 * Re-derives the booking grants of the given resources from the stored appointments, in one
 * transaction: a changed door mapping or grace applies to ongoing and future bookings alike.
 */
export function rederiveBookingGrants(
  store: Store,
  resourceIds: readonly string[],
  defaults: Grace,
  overrides: GraceOverrides,
  now: number,
): number {
  return store.transact((tx) => {
    const policy = policyFrom(tx, defaults, overrides);
    let n = 0;
    for (const resourceId of resourceIds) {
      for (const a of appointmentsOfResource(tx, resourceId)) {
        deriveGrants(tx, a, policy, now);
        n++;
      }
    }
    return n;
  });
}

/** The part of a config that decides booking grants (a whole Config is one). */
export interface BookingConfig {
  resources: readonly { id: string; graceBeforeMinutes?: number | undefined; graceAfterMinutes?: number | undefined }[];
  access: { graceBeforeMinutes: number; graceAfterMinutes: number };
}

const graceOfConfig = (cfg: BookingConfig): Grace => ({ beforeMin: cfg.access.graceBeforeMinutes, afterMin: cfg.access.graceAfterMinutes });

/**
 * rederiveBookingGrants with the grace defaults and per-resource overrides a config names. It
 * reads every stored appointment of the resources, pushed (api:) and fetched alike.
 */
export function rederiveFromConfig(store: Store, cfg: BookingConfig, resourceIds: readonly string[], now: number): number {
  const overrides = new Map(cfg.resources.map((r) => [r.id, r]));
  return rederiveBookingGrants(store, resourceIds, graceOfConfig(cfg), overrides, now);
}

/** The policy a config gives, as the upstream path builds it: its grace defaults and every resource's overrides. */
export function policyOfConfig(holder: DbHolder, cfg: BookingConfig): BookingPolicy {
  return policyFrom(holder, graceOfConfig(cfg), new Map(cfg.resources.map((r) => [r.id, r])));
}

/** Forgets appointments that ended long ago, with their (expired) grants. */
export function pruneEndedAppointments(tx: Tx, ids: readonly string[]): void {
  for (const id of ids) {
    deleteAppointment(tx, id);
    tx.grants.replaceSource('booking', id, []);
  }
}
