import { fromSql, PUSHED_PREFIX, type AppointmentSql } from './appointments.js';
import { bookingNames, bookingView, type BookingView } from './booking-admin.js';
import { prepareCached as cached } from './db.js';
import { decodeCursor, encodeCursor } from './page-cursor.js';
import type { DbHolder } from './store.js';
import { InvalidInputError } from './subscription-rows.js';

/*
 * The pushed bookings (the platform's own ids, store/booking-admin.ts), a page at a time in id
 * order: by resource, and by a time window they overlap (a booking from 09:00 to 10:00 is in
 * [09:30, 11:00)). The platform's fetched daily lists are not in it: those are the platform's
 * to list, and they are replaced at each reconcile.
 */

export interface BookingPage {
  bookings: BookingView[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface BookingQuery {
  resourceId?: string;
  /** ms: bookings that end after this instant */
  from?: number;
  /** ms: bookings that start before this instant */
  to?: number;
  cursor?: string;
  limit: number;
}

export const MAX_BOOKING_PAGE = 1000;

export function listBookings(holder: DbHolder, q: BookingQuery): BookingPage {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > MAX_BOOKING_PAGE) throw new InvalidInputError('query.limit', `limit must be an integer from 1 to ${MAX_BOOKING_PAGE}`);
  if (q.from !== undefined && q.to !== undefined && q.to <= q.from) throw new InvalidInputError('query.to', 'to must be after from');
  const after = q.cursor === undefined ? null : (decodeCursor(q.cursor) ?? null);
  if (q.cursor !== undefined && after === null) throw new InvalidInputError('query.cursor', 'not a cursor this API returned');
  // Fixed fragments, each combination prepared once (as listSubscriptions does). The id range
  // ['api:', 'api;') is the pushed namespace, read off the primary key without a LIKE.
  const where = [
    'appointment_id >= @lo AND appointment_id < @hi',
    ...(after === null ? [] : ['appointment_id > @after']),
    ...(q.resourceId === undefined ? [] : ['resource_id = @resource']),
    ...(q.from === undefined ? [] : ['end_at > @from']),
    ...(q.to === undefined ? [] : ['start_at < @to']),
  ];
  const rows = cached(holder.db, `SELECT * FROM appointments WHERE ${where.join(' AND ')} ORDER BY appointment_id LIMIT @take`).all({
    lo: PUSHED_PREFIX,
    hi: `${PUSHED_PREFIX.slice(0, -1)}${String.fromCharCode(PUSHED_PREFIX.charCodeAt(PUSHED_PREFIX.length - 1) + 1)}`,
    ...(after === null ? {} : { after: `${PUSHED_PREFIX}${after}` }),
    ...(q.resourceId === undefined ? {} : { resource: q.resourceId }),
    ...(q.from === undefined ? {} : { from: q.from }),
    ...(q.to === undefined ? {} : { to: q.to }),
    take: q.limit + 1,
  }) as AppointmentSql[];
  const names = bookingNames(holder);
  const page = rows.slice(0, q.limit).map((r) => bookingView(fromSql(r), names));
  return { bookings: page, nextCursor: rows.length > q.limit ? encodeCursor(page.at(-1)!.bookingId) : null };
}
