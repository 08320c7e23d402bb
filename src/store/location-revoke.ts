import { deleteAppointment } from './appointments.js';
import { recordChange } from './change-audit.js';
import { prepareCached as cached } from './db.js';
import type { Logger } from '../util/log.js';
import type { Store } from './store.js';

/*
 * `onDisconnect: revoke` (README "Locations"): what a disconnected location's platform account
 * granted is taken away, instead of staying until it ends (the default, `keep`, which is what
 * the seed's integration does). One Store.transact: the location's appointments, fetched and
 * pushed (`api:<id>`), with their booking grants, and its plan subscriptions ended now with
 * their person_groups rows. The index learns of it through the change_log triggers like of
 * any other write. Idempotent: a second pass finds nothing to delete and audits nothing. It runs
 * at start (parts/upstream-part.ts) and in the transaction of a reload that disconnects the
 * location (gateway-reload.ts), after its link stopped.
 */

export interface LocationRevoke {
  location: string;
  /** The resource ids of the location: its bookings are the appointments of these. */
  resources: readonly string[];
}

export interface RevokeCounts {
  appointments: number;
  grants: number;
  subscriptions: number;
}

/** The audit's actor: the configuration, not a person or a token, asked for it. */
const ACTOR = 'config';

export function revokeLocation(store: Store, loc: LocationRevoke, now: number): RevokeCounts {
  return store.transact((tx) => {
    const counts: RevokeCounts = { appointments: 0, grants: 0, subscriptions: 0 };
    const byResource = cached(tx.db, 'SELECT appointment_id FROM appointments WHERE resource_id = ? ORDER BY appointment_id').pluck();
    const grantsOf = cached(tx.db, "SELECT count(*) FROM grants WHERE source = 'booking' AND source_id = ?").pluck();
    for (const resourceId of loc.resources) {
      for (const id of byResource.all(resourceId) as string[]) {
        counts.grants += grantsOf.get(id) as number;
        deleteAppointment(tx, id);
        tx.grants.replaceSource('booking', id, []);
        counts.appointments++;
        recordChange(tx, { at: now, actor: ACTOR, action: 'booking.revoke', target: id, detail: { location: loc.location, resourceId } });
      }
    }
    // Ended now, not deleted: the row says what the subscription was, and that it ended here.
    const open = cached(tx.db, 'SELECT id FROM subscriptions WHERE location = ? AND (cancelled_at IS NULL OR cancelled_at > ?) ORDER BY id')
      .pluck()
      .all(loc.location, now) as string[];
    const end = cached(tx.db, 'UPDATE subscriptions SET cancelled_at = ?, updated_at = ? WHERE id = ?');
    for (const id of open) {
      end.run(now, now, id);
      tx.groups.dropSource('subscription', id);
      counts.subscriptions++;
      recordChange(tx, { at: now, actor: ACTOR, action: 'subscription.revoke', target: id, detail: { location: loc.location, cancelledAt: now } });
    }
    return counts;
  });
}

/** The one log line of a revoke, at start or at a reload (after the commit: a rolled-back attempt says nothing). */
export function logRevoked(logger: Logger, location: string, counts: RevokeCounts): void {
  logger.warn({ location, ...counts }, 'location disconnected with onDisconnect: revoke: its bookings, booking grants and plan subscriptions are revoked');
}
