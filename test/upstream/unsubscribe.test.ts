import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamSimulator } from '../../src/simulator/upstream-simulator.js';
import { openDatabase } from '../../src/store/db.js';
import { Store } from '../../src/store/store.js';
import { insertSubscription, type SubscriptionRecord } from '../../src/store/upstream-state.js';
import { UpstreamClient } from '../../src/upstream/client.js';
import { UpstreamHealth } from '../../src/upstream/health.js';
import { newWebhookSecret } from '../../src/upstream/subscriptions.js';
import { unsubscribeLocation } from '../../src/upstream/unsubscribe.js';
import { systemClock } from '../../src/util/clock.js';
import { createLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * A disconnected location's last word to its platform (upstream/unsubscribe.ts), against the
 * simulator over loopback and a real SQLite file: which stored subscriptions are deleted there,
 * which records go, and what a refusal leaves.
 */

let sim: UpstreamSimulator;
let store: Store;
let client: UpstreamClient;
let cleanup: () => void;
let lines: string[];

beforeEach(async () => {
  const t = tempDir('lintel-unsubscribe-');
  cleanup = t.cleanup;
  store = new Store(openDatabase(join(t.dir, 'lintel.db')));
  sim = new UpstreamSimulator({ clock: systemClock, tokens: ['tok'] });
  await sim.start();
  sim.addResource({ resourceId: 'R-AX', timeZone: 'Europe/Amsterdam' });
  client = new UpstreamClient({ baseUrl: sim.baseUrl, token: 'tok', requestTimeoutMs: 2000, clock: systemClock, health: new UpstreamHealth(systemClock, true) });
  lines = [];
});
afterEach(async () => {
  await sim.stop();
  store.close();
  cleanup();
});

/** A subscription made at the platform, stored for `location` in `state`. */
async function stored(location: string, state: SubscriptionRecord['state']): Promise<string> {
  const secret = newWebhookSecret((n) => Buffer.alloc(n, 7));
  const made = await client.createSubscription('http://127.0.0.1:9/webhooks/offision/x', ['R-AX'], secret);
  const id = state === 'pending' ? `pending:${made.subscriptionId}` : made.subscriptionId;
  store.transact((tx) => insertSubscription(tx, location, { subscriptionId: id, secret, resourceIds: ['R-AX'], createdAt: Date.now(), expiresAt: made.expiresAt, state }));
  return id;
}
const records = () => (store.db.prepare('SELECT location, subscription_id AS id FROM upstream_subscriptions ORDER BY location, subscription_id').all() as Array<{ location: string; id: string }>).map((r) => `${r.location} ${r.id}`);
const run = () => unsubscribeLocation({ store, client, location: 'annex', clock: systemClock, logger: createLogger('info', { write: (l: string) => void lines.push(l) }) });

describe('unsubscribeLocation', () => {
  it('deletes the active and replaced subscriptions of its location, at the platform and in the store; a pending one and another location stay', async () => {
    const active = await stored('annex', 'active');
    const replaced = await stored('annex', 'replaced');
    const pending = await stored('annex', 'pending');
    const other = await stored('hq', 'active');
    const report = await run();
    expect(report).toEqual({ deleted: [active, replaced].sort(), failed: [] });
    expect(sim.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop()).sort()).toEqual([active, replaced].sort());
    expect(records()).toEqual([`annex ${pending}`, `hq ${other}`].sort());
    expect(lines.some((l) => l.includes('its platform subscriptions deleted'))).toBe(true);
  });

  it('counts one the platform no longer has (404) as deleted', async () => {
    const gone = await stored('annex', 'active');
    await client.deleteSubscription(gone);
    expect((await run()).deleted).toEqual([gone]);
    expect(records()).toEqual([]);
  });

  it('keeps the record of one the platform refused to delete, and says which', async () => {
    const kept = await stored('annex', 'active');
    sim.injectFault({ status: 503, pathIncludes: '/subscriptions/' });
    const report = await run();
    expect(report.deleted).toEqual([]);
    expect(report.failed.map((f) => f.subscriptionId)).toEqual([kept]);
    expect(records()).toEqual([`annex ${kept}`]);
    expect(sim.liveSubscriptions().map((s) => s.subscriptionId)).toEqual([kept]);
    expect(lines.some((l) => l.includes('could not be deleted') && l.includes(kept))).toBe(true);
  });

  it('calls nothing when nothing is stored', async () => {
    expect(await run()).toEqual({ deleted: [], failed: [] });
    expect(sim.requests).toEqual([]);
    expect(lines).toEqual([]);
  });
});
