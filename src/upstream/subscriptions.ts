import type { Store } from '../store/store.js';
import {
  deleteExpiredSubscriptions,
  deleteSubscriptionRecord,
  insertSubscription,
  liveSubscriptions,
  markSubscriptionReplaced,
  type SubscriptionRecord,
} from '../store/upstream-state.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { UpstreamClient } from './client.js';

export interface SubscriptionManagerOptions {
  client: Pick<UpstreamClient, 'createSubscription' | 'deleteSubscription'>;
  store: Store;
  clock: Clock;
  logger: Logger;
  callbackUrl: string;
  renewBeforeMs: number;
  random: (n: number) => Buffer;
}

/** Spec §3: a subscription lives at most 7 days after creation. */
export const MAX_SUBSCRIPTION_MS = 7 * 86_400_000;

/**
 * The expiry we plan with. A platform that promises more than the spec allows (or something
 * unreadable) is held to 7 days: we renew on that schedule, and the old secret stops being
 * accepted by then instead of whenever the platform said.
 */
export function plannedExpiry(promised: number, createdAt: number): number {
  const limit = createdAt + MAX_SUBSCRIPTION_MS;
  return Number.isFinite(promised) && promised <= limit ? promised : limit;
}

export function newWebhookSecret(random: (n: number) => Buffer): string {
  return `whsec_${random(32).toString('base64')}`;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/**
 * Keeps exactly one active subscription covering every mapped resource. Renewal and mapping
 * changes create the new subscription first and only then delete the ones it replaced; a
 * replaced one keeps verifying callbacks until its deletion succeeded or it expired, so no
 * event falls between two subscriptions.
 */
export class SubscriptionManager {
  private resourceIds: string[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SubscriptionManagerOptions) {}

  setResources(ids: readonly string[]): void {
    this.resourceIds = [...new Set(ids)].sort();
  }

  /** Subscriptions whose secrets may sign a callback right now. */
  live(): SubscriptionRecord[] {
    return liveSubscriptions(this.opts.store.db, this.opts.clock.now());
  }

  hasCurrent(): boolean {
    return this.current(this.live()) !== undefined;
  }

  /** Serialized: two overlapping calls never create two subscriptions. Throws on upstream failure. */
  ensure(): Promise<void> {
    const run = this.chain.then(() => this.ensureOnce());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private current(live: readonly SubscriptionRecord[]): SubscriptionRecord | undefined {
    const now = this.opts.clock.now();
    return live.find((s) => {
      if (s.state !== 'active' || !sameSet(s.resourceIds, this.resourceIds)) return false;
      // A platform that grants short lifetimes must not make us renew on every check.
      const renewBefore = Math.min(this.opts.renewBeforeMs, (s.expiresAt - s.createdAt) / 2);
      return s.expiresAt - renewBefore > now;
    });
  }

  private async ensureOnce(): Promise<void> {
    const { store, clock, client, logger } = this.opts;
    store.transact((tx) => deleteExpiredSubscriptions(tx, clock.now()));
    let live = this.live();
    if (this.resourceIds.length > 0 && !this.current(live)) {
      const secret = newWebhookSecret(this.opts.random);
      const created = await client.createSubscription(this.opts.callbackUrl, this.resourceIds, secret);
      const createdAt = clock.now();
      const expiresAt = plannedExpiry(created.expiresAt, createdAt);
      if (expiresAt !== created.expiresAt) {
        logger.warn(
          { subscriptionId: created.subscriptionId, promised: Number.isFinite(created.expiresAt) ? new Date(created.expiresAt).toISOString() : String(created.expiresAt) },
          'platform promised a subscription beyond the 7 days its API allows; renewing as if 7 days',
        );
      }
      const record: SubscriptionRecord = {
        subscriptionId: created.subscriptionId,
        secret,
        resourceIds: this.resourceIds,
        createdAt,
        expiresAt,
        state: 'active',
      };
      store.transact((tx) => {
        insertSubscription(tx, record);
        for (const s of live) if (s.state === 'active') markSubscriptionReplaced(tx, s.subscriptionId);
      });
      logger.info(
        { subscriptionId: record.subscriptionId, resources: record.resourceIds.length, expiresAt: new Date(record.expiresAt).toISOString() },
        'subscribed to appointment changes',
      );
      live = this.live();
    }
    const keep = this.current(live);
    for (const old of live) {
      if (old === keep) continue;
      if (old.state === 'active') store.transact((tx) => markSubscriptionReplaced(tx, old.subscriptionId));
      try {
        await client.deleteSubscription(old.subscriptionId);
        store.transact((tx) => deleteSubscriptionRecord(tx, old.subscriptionId));
        logger.info({ subscriptionId: old.subscriptionId }, 'deleted replaced subscription');
      } catch (err) {
        // Still accepted until it expires; the next check tries the deletion again.
        logger.warn({ subscriptionId: old.subscriptionId, err: (err as Error).message }, 'could not delete replaced subscription');
      }
    }
  }
}
