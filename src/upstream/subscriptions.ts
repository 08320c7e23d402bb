import type { Store } from '../store/store.js';
import {
  activateSubscription,
  deleteExpiredSubscriptions,
  deleteSubscriptionRecord,
  insertSubscription,
  liveSubscriptions,
  markSubscriptionReplaced,
  type SubscriptionRecord,
} from '../store/upstream-state.js';
import type { Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { UpstreamError, type UpstreamClient } from './client.js';
import { brokenLifetimePromise, MAX_SUBSCRIPTION_MS, plannedExpiry, renewAt, renewalClamp } from './subscription-lifetime.js';


export interface SubscriptionManagerOptions {
  client: Pick<UpstreamClient, 'createSubscription' | 'deleteSubscription' | 'resources'>;
  store: Store;
  clock: Clock;
  logger: Logger;
  callbackUrl: string;
  renewBeforeMs: number;
  random: (n: number) => Buffer;
  /** Whose stored subscriptions these are (store/upstream-state.ts); '' outside a gateway (tests, tools). */
  location?: string;
}

export { MAX_SUBSCRIPTION_MS, plannedExpiry, renewAt } from './subscription-lifetime.js';

export function newWebhookSecret(random: (n: number) => Buffer): string {
  return `whsec_${random(32).toString('base64')}`;
}

/** Never sent (backoff), or refused with a non-2xx status: the platform cannot have used the secret. */
function madeNothing(err: unknown): boolean {
  if (!(err instanceof UpstreamError)) return false;
  if (err.kind === 'backoff') return true;
  return err.status !== null && (err.status < 200 || err.status >= 300);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/**
 * Keeps exactly one active subscription covering every mapped resource. Renewal and mapping
 * changes create the new subscription first and only then delete the ones it replaced; a
 * replaced one keeps verifying callbacks until its deletion succeeded or it expired, so no
 * event falls between two subscriptions.
 *
 * Only a subscription this process created counts as current: at start the gateway always
 * subscribes afresh with a new secret and then deletes the stored ones. A stored record says
 * nothing about what the platform still delivers, nor to which URL (callbackUrl may have
 * changed with the config), and its secret has been on disk since it was made.
 *
 * The secret is stored (as a `pending` record) before the create call and reused until a
 * create succeeds. So a subscription the platform made but whose 201 never reached us (a
 * timeout) signs with a secret we know: its callbacks verify, name an id we never heard of,
 * and that id is deleted (noteOrphan) instead of delivering for a week into 401s.
 */
export class SubscriptionManager {
  /** The subscription this process created, once it has. */
  private createdHere: string | null = null;
  private resourceIds: string[] = [];
  /** Mapped resources the platform says it does not have: left out of the subscription. */
  private unknownIds: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private creating = false;
  /** Platform ids that signed with one of our secrets but that we never recorded: to delete. */
  private readonly orphans = new Set<string>();
  /** The granted lifetime (s) last warned about as too short for renewBeforeSec. */
  private warnedLifetime: number | null = null;

  private readonly location: string;

  constructor(private readonly opts: SubscriptionManagerOptions) {
    this.location = opts.location ?? '';
  }

  setResources(ids: readonly string[]): void {
    this.resourceIds = [...new Set(ids)].sort();
    this.unknownIds = this.unknownIds.filter((id) => this.resourceIds.includes(id));
  }

  /** Subscriptions whose secrets may sign a callback right now. */
  live(): SubscriptionRecord[] {
    return liveSubscriptions(this.opts.store, this.opts.clock.now(), this.location);
  }

  /** Mapped resource ids the platform does not know (a typo in the mapping, a deleted room). */
  unknownResources(): string[] {
    return [...this.unknownIds];
  }

  hasCurrent(): boolean {
    return this.current(this.live()) !== undefined;
  }

  /** True while a create call is out: a callback signed with the pending secret may be its own. */
  createInFlight(): boolean {
    return this.creating;
  }

  /**
   * A callback signed with one of our secrets named this id, which we have no record of: a
   * subscription whose 201 was lost. Deleted at the next check (the signature proves it is
   * ours; an unverified id is never deleted, it could be another integration's).
   */
  noteOrphan(subscriptionId: string): void {
    if (this.orphans.size < 100) this.orphans.add(subscriptionId);
  }

  /** Serialized: two overlapping calls never create two subscriptions. Throws on upstream failure. */
  ensure(): Promise<void> {
    const run = this.chain.then(() => this.ensureOnce());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * When the current subscription is to be renewed (ms since the epoch), or null when there is
   * none that needs renewing (no mapped resources) or none at all (then ensure() is due now).
   */
  renewalDueAt(): number | null {
    const s = this.currentRecord(this.live(), true);
    return s ? renewAt(s, this.opts.renewBeforeMs) : null;
  }

  /** True when there are mapped resources to subscribe to. */
  wantsSubscription(): boolean {
    return this.resourceIds.length > 0;
  }

  private current(live: readonly SubscriptionRecord[]): SubscriptionRecord | undefined {
    return this.currentRecord(live, false);
  }

  /** `evenIfDue`: also one whose renewal time has come (the timer asks what it is waiting for). */
  private currentRecord(live: readonly SubscriptionRecord[], evenIfDue: boolean): SubscriptionRecord | undefined {
    const ids = this.subscribable();
    const now = this.opts.clock.now();
    return live.find((s) => {
      if (s.subscriptionId !== this.createdHere || s.state !== 'active' || !sameSet(s.resourceIds, ids)) return false;
      return evenIfDue ? s.expiresAt > now : renewAt(s, this.opts.renewBeforeMs) > now;
    });
  }

  private async ensureOnce(): Promise<void> {
    const { store, clock, logger } = this.opts;
    store.transact((tx) => deleteExpiredSubscriptions(tx, clock.now(), this.location));
    let live = this.live();
    // Resources the platform did not have last time may exist by now (a room just created):
    // ask again before settling for a subscription without them.
    if (this.unknownIds.length > 0) this.unknownIds = (await this.knownIds()).unknown;
    if (this.resourceIds.length > 0 && !this.current(live)) {
      const { record: pending, fresh } = this.pendingRecord(live);
      // The platform created it somewhere between sending and the answer: the 7-day limit is
      // counted from the send, the earliest it can have been, so we never plan beyond it.
      const createdAt = clock.now();
      const { created, ids } = await this.createTracked(pending, fresh);
      const expiresAt = plannedExpiry(created.expiresAt, createdAt);
      if (brokenLifetimePromise(created.expiresAt, createdAt)) {
        logger.warn(
          { subscriptionId: created.subscriptionId, promised: Number.isFinite(created.expiresAt) ? new Date(created.expiresAt).toISOString() : String(created.expiresAt) },
          'platform promised a subscription beyond the 7 days its API allows; renewing as if 7 days',
        );
      }
      this.warnIfClamped(created.subscriptionId, createdAt, expiresAt);
      store.transact((tx) => {
        activateSubscription(tx, this.location, pending.subscriptionId, { subscriptionId: created.subscriptionId, resourceIds: ids, createdAt, expiresAt });
        for (const s of live) if (s.state === 'active') markSubscriptionReplaced(tx, this.location, s.subscriptionId);
      });
      this.createdHere = created.subscriptionId;
      logger.info({ subscriptionId: created.subscriptionId, resources: ids.length, expiresAt: new Date(expiresAt).toISOString() }, 'subscribed to appointment changes');
      live = this.live();
    }
    await this.deleteReplaced(live);
    await this.deleteOrphans(live);
  }

  /** Said once per granted lifetime, so an operator sees why renewals come sooner than configured. */
  private warnIfClamped(subscriptionId: string, createdAt: number, expiresAt: number): void {
    const clamp = renewalClamp(createdAt, expiresAt, this.opts.renewBeforeMs);
    if (clamp === null || this.warnedLifetime === clamp.lifetimeSec) return;
    this.warnedLifetime = clamp.lifetimeSec;
    this.opts.logger.warn({ subscriptionId, ...clamp }, 'the platform grants subscriptions shorter than twice renewBeforeSec; renewing each at half its lifetime instead');
  }

  /** The pending record for the next create: the one a failed attempt left, or a new secret. */
  private pendingRecord(live: readonly SubscriptionRecord[]): { record: SubscriptionRecord; fresh: boolean } {
    const ids = this.subscribable();
    const left = live.find((s) => s.state === 'pending' && sameSet(s.resourceIds, ids));
    if (left) return { record: left, fresh: false };
    const now = this.opts.clock.now();
    const record: SubscriptionRecord = {
      subscriptionId: `pending:${this.opts.random(8).toString('hex')}`,
      secret: newWebhookSecret(this.opts.random),
      resourceIds: ids,
      createdAt: now,
      // Whatever the platform may have made with this secret lives at most 7 days.
      expiresAt: now + MAX_SUBSCRIPTION_MS,
      state: 'pending',
    };
    this.opts.store.transact((tx) => insertSubscription(tx, this.location, record));
    return { record, fresh: true };
  }

  /**
   * A create the platform answered with an error status made nothing: a pending record made
   * for this attempt is dropped. One whose call went unanswered (timeout, reset, unreadable
   * 201) may have made a subscription with that secret, so it stays, and is reused next time.
   */
  private async createTracked(pending: SubscriptionRecord, fresh: boolean): Promise<{ created: { subscriptionId: string; expiresAt: number }; ids: string[] }> {
    this.creating = true;
    try {
      return await this.create(this.subscribable(), pending.secret);
    } catch (err) {
      if (fresh && madeNothing(err)) this.opts.store.transact((tx) => deleteSubscriptionRecord(tx, this.location, pending.subscriptionId));
      throw err;
    } finally {
      this.creating = false;
    }
  }

  /**
   * A 400 for the whole list is what a platform answers when one id is not one of its
   * resources (a typo in the mapping, a deleted room). Then the ones it has are subscribed and
   * the rest reported, instead of every resource going without callbacks.
   */
  private async create(ids: string[], secret: string): Promise<{ created: { subscriptionId: string; expiresAt: number }; ids: string[] }> {
    const { client, callbackUrl, logger } = this.opts;
    try {
      return { created: await client.createSubscription(callbackUrl, ids, secret), ids };
    } catch (err) {
      if (!(err instanceof UpstreamError && err.status === 400)) throw err;
      const known = await this.knownIds();
      if (known.unknown.length === 0 || known.accepted.length === 0) throw err;
      this.unknownIds = known.unknown;
      logger.warn({ unknown: known.unknown }, 'the platform has no such resources; subscribing to the others (check resources[].id in the config)');
      return { created: await client.createSubscription(callbackUrl, known.accepted, secret), ids: known.accepted };
    }
  }

  private async knownIds(): Promise<{ accepted: string[]; unknown: string[] }> {
    const have = new Set((await this.opts.client.resources()).map((r) => r.resourceId));
    return { accepted: this.resourceIds.filter((id) => have.has(id)), unknown: this.resourceIds.filter((id) => !have.has(id)) };
  }

  /** The mapped ids a subscription should cover: all but those the platform said it lacks. */
  private subscribable(): string[] {
    return this.unknownIds.length === 0 ? this.resourceIds : this.resourceIds.filter((id) => !this.unknownIds.includes(id));
  }

  private async deleteOrphans(live: readonly SubscriptionRecord[]): Promise<void> {
    const { client, logger } = this.opts;
    for (const id of [...this.orphans]) {
      if (live.some((s) => s.subscriptionId === id)) {
        this.orphans.delete(id);
        continue;
      }
      try {
        await client.deleteSubscription(id);
        this.orphans.delete(id);
        logger.info({ subscriptionId: id }, 'deleted a subscription of ours the platform made without answering');
      } catch (err) {
        logger.warn({ subscriptionId: id, err: errorMessage(err) }, 'could not delete orphan subscription');
      }
    }
  }

  private async deleteReplaced(live: readonly SubscriptionRecord[]): Promise<void> {
    const { store, client, logger } = this.opts;
    const keep = this.current(live);
    for (const old of live) {
      // A pending record has no platform id; it expires on its own.
      if (old === keep || old.state === 'pending') continue;
      if (old.state === 'active') store.transact((tx) => markSubscriptionReplaced(tx, this.location, old.subscriptionId));
      try {
        await client.deleteSubscription(old.subscriptionId);
        store.transact((tx) => deleteSubscriptionRecord(tx, this.location, old.subscriptionId));
        logger.info({ subscriptionId: old.subscriptionId }, 'deleted replaced subscription');
      } catch (err) {
        // Still accepted until it expires; the next check tries the deletion again.
        logger.warn({ subscriptionId: old.subscriptionId, err: errorMessage(err) }, 'could not delete replaced subscription');
      }
    }
  }
}
