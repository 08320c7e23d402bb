import { Hono } from 'hono';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { BUSY_RETRY_AFTER_SEC, type ReplayGuard } from './replay-guard.js';
import { callbackSchema, opaqueId, type CallbackBody } from './schemas.js';
import { matchingSecrets, parseSignatures, parseTimestamp, timestampFresh } from './signature.js';
import type { SubscriptionManager } from './subscriptions.js';
import { readCapped } from '../util/read-capped.js';

export interface CallbackCounters {
  accepted: number;
  /** a replayed webhook-id: answered 200, nothing done */
  duplicates: number;
  rejected: Record<string, number>;
  /** When the last callback was accepted (ms); null: none since start. */
  lastAcceptedAt?: number | null;
}

export interface WebhookDeps {
  subscriptions: Pick<SubscriptionManager, 'live' | 'createInFlight' | 'noteOrphan'>;
  replay: ReplayGuard;
  clock: Clock;
  logger: Logger;
  maxBytes: number;
  isMapped(resourceId: string): boolean;
  /** Called after the answer is sent; must not throw (errors are its own to log). */
  onEvent(event: CallbackBody): void;
  counters: CallbackCounters;
}

/** The subscription id an unverified body names, if it names one; nothing else is read from it. */
function claimedSubscription(body: Buffer): string | null {
  try {
    const json: unknown = JSON.parse(body.toString('utf8'));
    const id = opaqueId.safeParse((json as { subscriptionId?: unknown } | null)?.subscriptionId);
    return id.success ? id.data : null;
  } catch {
    return null;
  }
}

/**
 * POST /webhooks/offision (mounted by the composition root). Order matters: size, then the
 * signature over the raw bytes against every live secret, and only then is the body trusted
 * enough to parse. Nothing is written before an event is accepted, so a rejected callback
 * leaves the database untouched. The fetch happens after the answer (setImmediate).
 *
 * "Unknown subscription" (202) has two faces. Unverified and naming an id we hold no secret
 * for (a subscription from a lost database, another receiver's): nothing can be checked or
 * done, and a 401 would only have the platform retry it for 24 h. Verified with one of our
 * secrets but naming an id we never recorded: ours, made by a create whose 201 was lost; it is
 * noted for deletion, unless that create is still in flight (503: the platform retries in 5 s,
 * by when the id is known).
 */
export function createWebhookApp(deps: WebhookDeps): Hono {
  const app = new Hono();
  const { counters, logger } = deps;

  app.post('/', async (c) => {
    const reject = (status: 400 | 401 | 413 | 503 | 202, reason: string, extra: Record<string, unknown> = {}) => {
      counters.rejected[status] = (counters.rejected[status] ?? 0) + 1;
      if (status === 202) logger.warn({ reason, ...extra }, 'callback ignored');
      else logger.warn({ status, reason, ...extra }, 'callback rejected');
      return c.json({ error: reason }, status);
    };

    const body = await readCapped(c.req.raw, deps.maxBytes);
    if (body === null) return reject(413, 'body too large');

    const webhookId = c.req.header('webhook-id');
    const timestamp = c.req.header('webhook-timestamp');
    const signature = c.req.header('webhook-signature');
    if (!webhookId || !timestamp || !signature || webhookId.length > 256) return reject(401, 'missing signature headers');
    const ts = parseTimestamp(timestamp);
    if (ts === null || !timestampFresh(ts, deps.clock.now())) return reject(401, 'timestamp outside the 5 minute tolerance');

    const live = deps.subscriptions.live();
    const matched = matchingSecrets(
      live.map((s) => s.secret),
      webhookId,
      timestamp,
      body,
      parseSignatures(signature),
    ).map((i) => live[i]!);
    if (matched.length === 0) {
      const claimed = claimedSubscription(body);
      if (claimed !== null && !live.some((s) => s.subscriptionId === claimed)) {
        return reject(202, 'unknown subscription, signature not verifiable', { subscriptionId: claimed });
      }
      return reject(401, 'bad signature');
    }

    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return reject(400, 'body is not JSON');
    }
    const parsed = callbackSchema.safeParse(json);
    if (!parsed.success) return reject(400, 'body does not match the callback contract');
    const event = parsed.data;

    if (deps.replay.seen(webhookId)) {
      counters.duplicates++;
      return c.json({ status: 'duplicate' }, 200);
    }
    const sub = matched.find((s) => s.subscriptionId === event.subscriptionId);
    if (!sub) {
      // Signed by one of ours but naming another of ours: not trustworthy for that one.
      if (live.some((s) => s.subscriptionId === event.subscriptionId)) return reject(401, 'signature does not match the named subscription');
      if (matched.every((s) => s.state === 'pending') && deps.subscriptions.createInFlight()) {
        return reject(503, 'subscription being created; retry', { subscriptionId: event.subscriptionId });
      }
      deps.subscriptions.noteOrphan(event.subscriptionId);
      return reject(202, 'unknown subscription signed with our secret; deleting it', { subscriptionId: event.subscriptionId });
    }
    if (!sub.resourceIds.includes(event.resourceId) || !deps.isMapped(event.resourceId)) {
      return reject(202, 'resource not mapped', { resourceId: event.resourceId });
    }

    if (!deps.replay.tryRemember(webhookId)) {
      // Another process holds the write lock: nothing was recorded, so ask for the platform's retry (first after 5 s).
      c.header('Retry-After', String(BUSY_RETRY_AFTER_SEC));
      return reject(503, 'database busy; retry');
    }
    counters.accepted++;
    counters.lastAcceptedAt = deps.clock.now();
    setImmediate(() => deps.onEvent(event));
    return c.json({ status: 'accepted' }, 200);
  });
  return app;
}
