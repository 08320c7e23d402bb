import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { BlankEnv } from 'hono/types';
import { getBooking, type BookingView } from '../../store/booking-admin.js';
import { listBookings } from '../../store/booking-list.js';
import type { Writes } from './write-ops.js';
import type { Store } from '../../store/store.js';
import type { BookingConfig } from '../../upstream/booking-apply.js';
import type { Clock } from '../../util/clock.js';
import { requireScope } from './actor.js';
import { errorResponses } from './error-responses.js';
import { ApiError } from './errors.js';
import { checkBookingLocation, type LocationsOf } from './location-gate.js';
import { Email, ms, NaturalId } from './schemas.js';

/*
 * Bookings a platform pushes (store/booking-admin.ts): organizer and attendees get the
 * resource's doors from start − grace to end + grace, grace per resource from the config.
 * A PUT by the platform's own booking id creates or moves it (an identical retry is a 200 that
 * writes nothing); DELETE cancels it and its access goes at once.
 */

const Instant = z.iso.datetime({ offset: true }).openapi({ example: '2026-12-01T09:00:00+01:00', description: 'ISO 8601 with offset' });
const BookingParam = z.object({ bookingId: NaturalId.openapi({ param: { name: 'bookingId', in: 'path' } }) });

const ParticipantIn = z
  .object({ email: Email, name: z.string().trim().min(1).max(200).optional().openapi({ description: 'Name of a person created by this booking' }) })
  .strict();

export const BookingPut = z
  .object({
    resourceId: z.string().min(1).max(128).openapi({ description: 'A resource of the gateway config (room, desk, office, parking, equipment)' }),
    startsAt: Instant,
    endsAt: Instant,
    organizer: ParticipantIn,
    attendees: z.array(ParticipantIn).max(1000).default([]),
  })
  .strict()
  .refine((b) => Date.parse(b.endsAt) > Date.parse(b.startsAt), { message: 'endsAt must be after startsAt', path: ['endsAt'] })
  .openapi('BookingPut');

const ParticipantOut = z.object({ email: z.string(), name: z.string().nullable() });
const Booking = z
  .object({
    bookingId: z.string(),
    resourceId: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
    organizer: ParticipantOut,
    attendees: z.array(ParticipantOut),
    updatedAt: z.string(),
  })
  .openapi('Booking');

const json = <T>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const common = { tags: ['bookings'], security: [{ bearer: [] }] };
const path = '/bookings/{bookingId}';

const putRoute = createRoute({
  ...common,
  method: 'put',
  path,
  summary: 'Create or move a booking (idempotent): its people get the resource’s doors from start − grace to end + grace',
  request: { params: BookingParam, body: { content: { 'application/json': { schema: BookingPut } }, required: true } },
  responses: { ...errorResponses, 200: json(Booking, 'Updated, or already so'), 201: json(Booking, 'Created') },
  description: "409 `location_disconnected`: the resource's location is disconnected; nothing new is granted there (a DELETE still works).",
});
const getRoute = createRoute({ ...common, method: 'get', path, summary: 'One pushed booking', request: { params: BookingParam }, responses: { ...errorResponses, 200: json(Booking, 'The booking') } });
const BookingPage = z.object({ items: z.array(Booking), next: z.string().nullable() }).openapi('BookingPage');
const ListQuery = z.object({
  resourceId: z.string().min(1).max(128).optional(),
  from: Instant.optional().openapi({ description: 'Only bookings that end after this instant' }),
  to: Instant.optional().openapi({ description: 'Only bookings that start before this instant' }),
  cursor: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const listRoute = createRoute({ ...common, method: 'get', path: '/bookings', summary: 'Pushed bookings by id, of a resource, overlapping a time window, with a cursor', request: { query: ListQuery }, responses: { ...errorResponses, 200: json(BookingPage, 'A page') } });
const deleteRoute = createRoute({ ...common, method: 'delete', path, summary: 'Cancel a booking: its access goes at once', request: { params: BookingParam }, responses: { ...errorResponses, 204: { description: 'Cancelled' } } });

const iso = (v: number) => new Date(v).toISOString();
const wire = (b: BookingView) => ({ ...b, startsAt: iso(b.startsAt), endsAt: iso(b.endsAt), updatedAt: iso(b.updatedAt) });
const unknownBooking = () => new ApiError(404, 'unknown_booking', 'no booking with that id', 'path.bookingId');

/** Only what the policy needs, as plain data (a Config also carries functions nowhere, but much else). */
const bookingConfigData = (cfg: BookingConfig): BookingConfig => ({
  resources: cfg.resources.map((r) => ({ id: r.id, graceBeforeMinutes: r.graceBeforeMinutes, graceAfterMinutes: r.graceAfterMinutes })),
  access: { graceBeforeMinutes: cfg.access.graceBeforeMinutes, graceAfterMinutes: cfg.access.graceAfterMinutes },
});

export function mountBookingRoutes(app: OpenAPIHono<BlankEnv>, deps: { store: Store; clock: Clock; bookingConfig: () => BookingConfig; writes: Writes; locations?: LocationsOf }): void {
  app.openapi(putRoute, async (c) => {
    const actor = requireScope(c, 'write').name;
    const b = c.req.valid('json');
    checkBookingLocation(deps.locations, b.resourceId);
    const input = { resourceId: b.resourceId, startsAt: ms(b.startsAt)!, endsAt: ms(b.endsAt)!, organizer: b.organizer, attendees: b.attendees };
    // The policy is read at each request: a reload that changes a resource's grace applies to the next PUT.
    const out = await deps.writes.putBooking(c.req.valid('param').bookingId, input, bookingConfigData(deps.bookingConfig()), { actor, now: deps.clock.now() });
    return out.created ? c.json(wire(out.booking), 201) : c.json(wire(out.booking), 200);
  });
  app.openapi(getRoute, (c) => {
    requireScope(c, 'read');
    const found = getBooking(deps.store, c.req.valid('param').bookingId);
    if (found === undefined) throw unknownBooking();
    return c.json(wire(found), 200);
  });
  app.openapi(listRoute, (c) => {
    requireScope(c, 'read');
    const q = c.req.valid('query');
    const page = listBookings(deps.store, {
      limit: q.limit,
      ...(q.resourceId === undefined ? {} : { resourceId: q.resourceId }),
      ...(q.from === undefined ? {} : { from: ms(q.from)! }),
      ...(q.to === undefined ? {} : { to: ms(q.to)! }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
    return c.json({ items: page.bookings.map(wire), next: page.nextCursor }, 200);
  });
  app.openapi(deleteRoute, async (c) => {
    const actor = requireScope(c, 'write').name;
    if (!(await deps.writes.cancelBooking(c.req.valid('param').bookingId, { actor, now: deps.clock.now() })).changed) throw unknownBooking();
    return c.body(null, 204);
  });
}
