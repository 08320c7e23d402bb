import { deleteSubscriptionRecord, liveSubscriptions } from '../store/upstream-state.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { UpstreamConfig } from '../config/schema.js';
import { UpstreamClient } from './client.js';
import { UpstreamHealth } from './health.js';

/*
 * A location disconnected by a reload (parts/upstream-part.ts): once its link's thread has
 * stopped, its subscriptions are deleted at the platform (the spec's
 * `DELETE …/subscriptions/{id}`), so the platform stops calling a path that now answers 404
 * instead of retrying it for up to 7 days. Best effort: all deletions together wait at most
 * UNSUBSCRIBE_BOUND_MS or the link's request timeout, whichever is shorter (each call's own
 * deadline is that bound, so none outlives it: they run side by side), the outcome
 * is logged, and a failure changes nothing else. A subscription not deleted keeps its record: it
 * expires on its own, and a link started for the location again deletes it after subscribing
 * afresh (subscriptions.ts). A `pending` record has no platform id to delete; it expires too.
 * A location found disconnected at start gets the same (unsubscribeStored): its link may have
 * left subscriptions when it last ran, before a restart disconnected it.
 */

/** The most a disconnect waits for the platform; the reload that disconnects waits for it too. */
export const UNSUBSCRIBE_BOUND_MS = 5_000;

export interface UnsubscribeOptions {
  store: Store;
  client: Pick<UpstreamClient, 'deleteSubscription'>;
  /** Whose stored subscriptions (store/upstream-state.ts). */
  location: string;
  clock: Clock;
  logger: Logger;
  /** The link's own request timeout: never waited longer than that, nor than UNSUBSCRIBE_BOUND_MS. */
  boundMs?: number;
}

export interface UnsubscribeReport {
  deleted: string[];
  failed: Array<{ subscriptionId: string; error: string }>;
}

/** Never throws: what could not be deleted is in `failed` (and in the log). */
export async function unsubscribeLocation(opts: UnsubscribeOptions): Promise<UnsubscribeReport> {
  const { store, client, location, clock, logger } = opts;
  const report: UnsubscribeReport = { deleted: [], failed: [] };
  let ids: string[];
  try {
    ids = liveSubscriptions(store, clock.now(), location)
      .filter((s) => s.state !== 'pending')
      .map((s) => s.subscriptionId);
  } catch (err) {
    logger.warn({ location, err: errorMessage(err) }, 'location disconnected: its stored platform subscriptions could not be read; none deleted');
    return report;
  }
  const boundMs = Math.min(opts.boundMs ?? UNSUBSCRIBE_BOUND_MS, UNSUBSCRIBE_BOUND_MS);
  await Promise.all(
    ids.map(async (subscriptionId) => {
      try {
        await client.deleteSubscription(subscriptionId, { timeoutMs: boundMs });
      } catch (err) {
        report.failed.push({ subscriptionId, error: errorMessage(err) });
        return;
      }
      report.deleted.push(subscriptionId);
      try {
        store.transact((tx) => deleteSubscriptionRecord(tx, location, subscriptionId));
      } catch (err) {
        // Deleted at the platform all the same: the record only expires later (or goes at the next subscribe).
        logger.warn({ location, subscriptionId, err: errorMessage(err) }, 'platform subscription deleted, but its record could not be removed');
      }
    }),
  );
  report.deleted.sort();
  if (report.failed.length > 0) {
    logger.warn({ location, deleted: report.deleted, failed: report.failed }, 'location disconnected: some platform subscriptions could not be deleted; they expire on their own, their callbacks get 404');
  } else if (ids.length > 0) {
    logger.info({ location, deleted: report.deleted }, 'location disconnected: its platform subscriptions deleted');
  }
  return report;
}

/**
 * At start, for a disconnected location: what its link left is deleted behind the start (never
 * waited for), with a client of its own since no link runs. Nothing stored: no call at all.
 */
export function unsubscribeStored(opts: Omit<UnsubscribeOptions, 'client' | 'boundMs'> & { upstream: UpstreamConfig; token: string }): void {
  const { upstream: up, token, store, clock, location, logger } = opts;
  // A read that fails here is retried by unsubscribeLocation, which logs it: the start goes on either way.
  let stored = true;
  try {
    stored = liveSubscriptions(store, clock.now(), location).some((s) => s.state !== 'pending');
  } catch {
    /* read again below */
  }
  if (!stored) return;
  const client = new UpstreamClient({ baseUrl: up.baseUrl, token, requestTimeoutMs: up.requestTimeoutMs, clock, health: new UpstreamHealth(clock, token.length > 0) });
  unsubscribeLocation({ store, client, location, clock, logger, boundMs: up.requestTimeoutMs }).catch((err: unknown) =>
    logger.warn({ location, err: errorMessage(err) }, 'deleting a disconnected location\'s platform subscriptions failed'),
  );
}
