import { prepareCached as cached } from './db.js';
import type { DbHolder, Tx } from './store.js';

/**
 * Appointments as last fetched from the booking platform. They are the source of the booking
 * grants: a change of the resource → door mapping re-derives grants from here, without a fetch.
 */
export interface AppointmentRecord {
  appointmentId: string;
  resourceId: string;
  status: 'confirmed' | 'cancelled';
  /** ms since epoch */
  startAt: number;
  /** ms since epoch, exclusive */
  endAt: number;
  /** lower-cased emails, organizer first, no duplicates */
  participants: string[];
  /** the platform's updatedAt, verbatim (RFC 3339), to ignore a list older than what is stored */
  updatedAt: string | null;
  fetchedAt: number;
}

/**
 * Bookings pushed through the API (store/booking-admin.ts) are stored as `api:<bookingId>`
 * beside the platform's fetched ones; the daily-list reconcile leaves this namespace alone.
 */
export const PUSHED_PREFIX = 'api:';

export const isPushedAppointment = (appointmentId: string): boolean => appointmentId.startsWith(PUSHED_PREFIX);

export interface AppointmentSql {
  appointment_id: string;
  resource_id: string;
  status: 'confirmed' | 'cancelled';
  start_at: number;
  end_at: number;
  participants: string;
  updated_at: string | null;
  fetched_at: number;
}

export function fromSql(r: AppointmentSql): AppointmentRecord {
  return {
    appointmentId: r.appointment_id,
    resourceId: r.resource_id,
    status: r.status,
    startAt: r.start_at,
    endAt: r.end_at,
    participants: JSON.parse(r.participants) as string[],
    updatedAt: r.updated_at,
    fetchedAt: r.fetched_at,
  };
}

export function getAppointment({ db }: DbHolder, appointmentId: string): AppointmentRecord | undefined {
  const row = cached(db, 'SELECT * FROM appointments WHERE appointment_id = ?').get(appointmentId) as AppointmentSql | undefined;
  return row ? fromSql(row) : undefined;
}

export function upsertAppointment(tx: Tx, a: AppointmentRecord): void {
  cached(
    tx.db,
    `INSERT INTO appointments (appointment_id, resource_id, status, start_at, end_at, participants, updated_at, fetched_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(appointment_id) DO UPDATE SET resource_id = excluded.resource_id, status = excluded.status,
       start_at = excluded.start_at, end_at = excluded.end_at, participants = excluded.participants,
       updated_at = excluded.updated_at, fetched_at = excluded.fetched_at`,
  ).run(a.appointmentId, a.resourceId, a.status, a.startAt, a.endAt, JSON.stringify(a.participants), a.updatedAt, a.fetchedAt);
}

export function deleteAppointment(tx: Tx, appointmentId: string): void {
  cached(tx.db, 'DELETE FROM appointments WHERE appointment_id = ?').run(appointmentId);
}

/**
 * Appointments of a resource that overlap [fromMs, toMs). A zero-length appointment counts when
 * its instant lies inside the range.
 */
export function appointmentsTouching({ db }: DbHolder, resourceId: string, fromMs: number, toMs: number): AppointmentRecord[] {
  const rows = cached(
    db,
    `SELECT * FROM appointments WHERE resource_id = ? AND start_at < ?
       AND (end_at > ? OR (end_at = start_at AND start_at >= ?))`,
  ).all(resourceId, toMs, fromMs, fromMs) as AppointmentSql[];
  return rows.map(fromSql);
}

export function appointmentsOfResource({ db }: DbHolder, resourceId: string): AppointmentRecord[] {
  return (cached(db, 'SELECT * FROM appointments WHERE resource_id = ?').all(resourceId) as AppointmentSql[]).map(fromSql);
}

/** Appointments that ended before `beforeMs`: their grants can no longer open anything. */
export function endedAppointmentIds({ db }: DbHolder, beforeMs: number): string[] {
  return (cached(db, 'SELECT appointment_id FROM appointments WHERE end_at < ?').all(beforeMs) as { appointment_id: string }[]).map(
    (r) => r.appointment_id,
  );
}

/** Forgets appointments that ended before `cutoff` (their grants are pruned beside them); returns how many. */
export function pruneAppointmentsEndedBefore(tx: Tx, cutoff: number): number {
  return cached(tx.db, 'DELETE FROM appointments WHERE end_at < ?').run(cutoff).changes;
}
