import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallbackDelivery } from '../../src/simulator/delivery.js';
import { FakeClock } from '../helpers/fake-clock.js';

/*
 * The platform simulator's delivery loop must never leave a rejected promise behind: an attempt
 * that throws before it has an answer (here: a subscription secret without the whsec_ prefix,
 * which signWebhook refuses) is recorded as a fault instead of crashing the process that hosts
 * the simulator (the demo, a test run) with an unhandled rejection.
 */

describe('CallbackDelivery', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  beforeEach(() => { unhandled.length = 0; process.on('unhandledRejection', onUnhandled); });
  afterEach(() => { process.off('unhandledRejection', onUnhandled); });

  it('records an attempt that throws as a fault, without an unhandled rejection, and does not retry it', async () => {
    const clock = new FakeClock();
    let posts = 0;
    const delivery = new CallbackDelivery(clock, (() => { posts += 1; return Promise.resolve(new Response(null, { status: 204 })); }) as typeof fetch);
    const id = delivery.enqueue({ subscriptionId: 'S-1', callUrl: 'http://127.0.0.1:9/cb', secret: 'not-a-webhook-secret' }, { event: 'x' });
    await delivery.idle();
    // Unhandled rejections are reported after the microtask queue drains: give it two turns.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
    expect(delivery.faults).toEqual([{ webhookId: id, attempt: 1, error: 'webhook secret must start with whsec_' }]);
    expect(posts).toBe(0);
    clock.advance(3_600_000);
    expect(clock.pending()).toBe(0);
    expect(delivery.attempts).toEqual([]);
  });
});
