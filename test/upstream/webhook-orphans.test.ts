import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { Store } from '../../src/store/store.js';
import type { SubscriptionRecord } from '../../src/store/upstream-state.js';
import { ReplayGuard } from '../../src/upstream/replay-guard.js';
import { signWebhook } from '../../src/upstream/signature.js';
import { createWebhookApp, type CallbackCounters } from '../../src/upstream/webhook.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The two faces of "unknown subscription" (202), and the create-in-flight race (503), at the
 * route with app.request(): which subscription records exist is the whole input here.
 */

const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
const OTHER = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

let clock: FakeClock;
let store: Store;
let cleanup: () => void;
let records: SubscriptionRecord[];
let creating: boolean;
let orphans: string[];
let events: number;

beforeEach(() => {
  const t = tempDir('lintel-orphans-');
  cleanup = t.cleanup;
  clock = new FakeClock();
  store = new Store(openDatabase(join(t.dir, 'lintel.db')));
  records = [];
  creating = false;
  orphans = [];
  events = 0;
});
afterEach(() => {
  store.close();
  cleanup();
});

function app() {
  const counters: CallbackCounters = { accepted: 0, duplicates: 0, rejected: {} };
  return createWebhookApp({
    subscriptions: { live: () => records, createInFlight: () => creating, noteOrphan: (id) => void orphans.push(id) },
    replay: new ReplayGuard(store, clock),
    clock,
    logger: silentLogger,
    maxBytes: 16_384,
    isMapped: () => true,
    onEvent: () => void events++,
    counters,
  });
}

function record(subscriptionId: string, state: SubscriptionRecord['state']): SubscriptionRecord {
  return { subscriptionId, secret: SECRET, resourceIds: ['R-1'], createdAt: 0, expiresAt: Infinity, state };
}

async function post(subscriptionId: string, secret = SECRET): Promise<number> {
  const body = JSON.stringify({ subscriptionId, type: 'appointment.created', resourceId: 'R-1', appointmentId: 'A-1', dates: ['2026-11-22'], occurredAt: '2026-11-22T10:00:00Z' });
  const ts = Math.floor(clock.now() / 1000);
  const id = `msg_${Math.random()}`;
  const res = await app().request('/', { method: 'POST', body, headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body) } });
  return res.status;
}

describe('unknown subscriptions at the callback endpoint', () => {
  it('signed with our secret under an id we never recorded: 202, noted for deletion, nothing applied', async () => {
    records = [record('S-2', 'active')];
    expect(await post('S-1')).toBe(202);
    expect(orphans).toEqual(['S-1']);
    expect(events).toBe(0);
  });

  it('signed with a pending secret while its create is in flight: 503, so the platform retries once the id is known', async () => {
    records = [record('pending:ab12', 'pending')];
    creating = true;
    expect(await post('S-7')).toBe(503);
    expect(orphans).toEqual([]);
    creating = false; // the create failed without an answer: S-7 is an orphan of ours
    expect(await post('S-7')).toBe(202);
    expect(orphans).toEqual(['S-7']);
  });

  it('not verifiable: 202 for an id we hold no secret for, never deleted; 401 for an id we do hold', async () => {
    records = [record('S-2', 'active')];
    expect(await post('S-lost', OTHER)).toBe(202);
    expect(await post('S-2', OTHER)).toBe(401);
    expect(orphans).toEqual([]);
    expect(events).toBe(0);
  });

  it('the named subscription verifies: accepted as usual', async () => {
    records = [record('S-2', 'active')];
    expect(await post('S-2')).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(events).toBe(1);
  });
});
