import { deleteAppointment, getAppointment, PUSHED_PREFIX, upsertAppointment, type AppointmentRecord } from './appointments.js';
import { recordChange } from './change-audit.js';
import { prepareCached as cached } from './db.js';
import { normalizeEmail } from './people-repository.js';
import type { DbHolder, Store, Tx } from './store.js';
import { checkEmail, checkNaturalId, InvalidInputError } from './subscription-rows.js';
import { deriveGrants, type BookingPolicy } from '../upstream/booking-apply.js';

/*
 * Bookings a platform pushes through the API (issue 12), beside the ones fetched from its daily
 * lists. A pushed booking is stored as the appointment `api:<bookingId>` and its grants are
 * derived exactly as a fetched one's (deriveGrants): organizer and attendees get the resource's
 * doors from start − grace to end + grace, people unknown so far are created pending until a
 * card. Keeping them in the one appointments table is what makes a changed resource mapping
 * (rederiveFromConfig at reload) apply to pushed bookings too, ongoing ones included. The
 * daily-list reconcile skips the `api:` namespace (booking-apply.ts); like fetched ones, a
 * pushed booking is forgotten a week after it ended (its grants expired long before).
 *
 * Each use case is one Store.transact; an identical retry writes nothing and says changed: false.
 */

/** The resource is not in the configuration: a booking of it would open nothing and say nothing. */
export class UnknownResourceError extends Error {
  readonly code = 'unknown_resource';
  constructor(readonly resourceId: string) {
    super(`unknown resource "${resourceId}"`);
    this.name = 'UnknownResourceError';
  }
}

export interface Participant {
  email: string;
  name?: string | null;
}

export interface BookingInput {
  resourceId: string;
  /** ms since epoch */
  startsAt: number;
  /** ms since epoch, exclusive; after startsAt */
  endsAt: number;
  organizer: Participant;
  attendees: readonly Participant[];
}

export interface BookingView {
  bookingId: string;
  resourceId: string;
  startsAt: number;
  endsAt: number;
  organizer: { email: string; name: string | null };
  /** Without the organizer, in the order given, each once. */
  attendees: { email: string; name: string | null }[];
  /** When the last accepted change was written (ms). */
  updatedAt: number;
}

export interface BookingChange {
  created: boolean;
  changed: boolean;
  booking: BookingView;
}

export interface BookingContext {
  /** What the change audit names: "api:<token name>", "cli:user@host". */
  actor: string;
  now: number;
}

const appointmentIdOf = (bookingId: string): string => PUSHED_PREFIX + bookingId;
const isInstant = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Every refusal happens here, before the transaction: a refused PUT writes nothing. Returns the participants, organizer first. */
function checkInput(bookingId: string, input: BookingInput, policy: BookingPolicy): { emails: string[]; names: Map<string, string | null> } {
  checkNaturalId('bookingId', bookingId);
  checkNaturalId('resourceId', input.resourceId);
  if (!policy.knows(input.resourceId)) throw new UnknownResourceError(input.resourceId);
  if (!isInstant(input.startsAt)) throw new InvalidInputError('startsAt', 'startsAt must be an instant in ms');
  if (!isInstant(input.endsAt)) throw new InvalidInputError('endsAt', 'endsAt must be an instant in ms');
  if (input.endsAt <= input.startsAt) throw new InvalidInputError('endsAt', 'endsAt must be after startsAt');
  checkEmail('organizer.email', input.organizer.email);
  if (!Array.isArray(input.attendees)) throw new InvalidInputError('attendees', 'attendees must be an array');
  input.attendees.forEach((a, i) => checkEmail(`attendees.${i}.email`, a.email));
  // The first mention of an address names it: the organizer listed again as an attendee is one participant.
  const names = new Map<string, string | null>();
  for (const p of [input.organizer, ...input.attendees]) {
    const email = normalizeEmail(p.email);
    const name = p.name ?? null;
    if (!names.has(email) || (names.get(email) === null && name !== null)) names.set(email, name);
  }
  return { emails: [...names.keys()], names };
}

function sameAppointment(x: AppointmentRecord, y: AppointmentRecord): boolean {
  return x.resourceId === y.resourceId && x.status === y.status && x.startAt === y.startAt && x.endAt === y.endAt && x.participants.join('\n') === y.participants.join('\n');
}

/** Whether deriving would change people: someone unknown (created) or a name asked anew. */
function peopleWouldChange(tx: Tx, names: ReadonlyMap<string, string | null>): boolean {
  for (const [email, name] of names) {
    const known = tx.people.byEmail(email);
    if (known === undefined || (name !== null && name !== known.name)) return true;
  }
  return false;
}

/** A stored pushed appointment as the API shows it (names from the people table). */
export function bookingView(a: AppointmentRecord, people: (email: string) => string | null): BookingView {
  const [organizer, ...attendees] = a.participants.map((email) => ({ email, name: people(email) }));
  return {
    bookingId: a.appointmentId.slice(PUSHED_PREFIX.length),
    resourceId: a.resourceId,
    startsAt: a.startAt,
    endsAt: a.endAt,
    organizer: organizer!,
    attendees,
    updatedAt: a.fetchedAt,
  };
}

export function bookingNames(holder: DbHolder): (email: string) => string | null {
  const stmt = cached(holder.db, 'SELECT name FROM people WHERE email = ?').pluck();
  return (email) => (stmt.get(email) as string | null | undefined) ?? null;
}

/**
 * Creates or replaces the pushed booking `bookingId` and re-derives its grants. The policy
 * gives the resource's doors and grace and refuses a resource the config does not name
 * (UnknownResourceError) before anything is written.
 */
export function putBooking(store: Store, bookingId: string, input: BookingInput, policy: BookingPolicy, ctx: BookingContext): BookingChange {
  const { emails, names } = checkInput(bookingId, input, policy);
  const id = appointmentIdOf(bookingId);
  return store.transact((tx) => {
    const before = getAppointment(tx, id);
    const next: AppointmentRecord = {
      appointmentId: id,
      resourceId: input.resourceId,
      status: 'confirmed',
      startAt: input.startsAt,
      endAt: input.endsAt,
      participants: emails,
      updatedAt: new Date(ctx.now).toISOString(),
      fetchedAt: ctx.now,
    };
    // Compared before any write: an identical retry must not even move updated_at.
    if (before !== undefined && sameAppointment(before, next) && !peopleWouldChange(tx, names)) {
      return { created: false, changed: false, booking: bookingView(before, bookingNames(tx)) };
    }
    upsertAppointment(tx, next);
    deriveGrants(tx, next, policy, ctx.now, names);
    const booking = bookingView(next, bookingNames(tx));
    recordChange(tx, {
      at: ctx.now,
      actor: ctx.actor,
      action: before === undefined ? 'booking.create' : 'booking.update',
      target: bookingId,
      detail: { resourceId: next.resourceId, startsAt: next.startAt, endsAt: next.endAt, participants: emails },
    });
    return { created: before === undefined, changed: true, booking };
  });
}

/** Cancels (forgets) the booking: its grants go in the same transaction. An unknown id is changed: false. */
export function cancelBooking(store: Store, bookingId: string, ctx: BookingContext): { changed: boolean } {
  const id = appointmentIdOf(bookingId);
  return store.transact((tx) => {
    const before = getAppointment(tx, id);
    if (before === undefined) return { changed: false };
    deleteAppointment(tx, id);
    tx.grants.replaceSource('booking', id, []);
    recordChange(tx, { at: ctx.now, actor: ctx.actor, action: 'booking.cancel', target: bookingId, detail: { resourceId: before.resourceId } });
    return { changed: true };
  });
}

export function getBooking(holder: DbHolder, bookingId: string): BookingView | undefined {
  const found = getAppointment(holder, appointmentIdOf(bookingId));
  return found === undefined ? undefined : bookingView(found, bookingNames(holder));
}
