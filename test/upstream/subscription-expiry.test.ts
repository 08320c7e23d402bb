import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SUBSCRIPTION_MS, plannedExpiry, SubscriptionManager } from '../../src/upstream/subscriptions.js';
import { silentLogger } from '../../src/util/log.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { testStore } from '../helpers/store.js';

const DAY = 86_400_000;

/** The platform side of section 3, answering with whatever lifetime the test says. */
function platform(lifetimeMs: number, clock: FakeClock) {
  const calls: string[] = [];
  let n = 0;
  return {
    calls,
    client: {
      async createSubscription() {
        n += 1;
        calls.push(`create S-${n}`);
        return { subscriptionId: `S-${n}`, expiresAt: clock.now() + lifetimeMs };
      },
      async deleteSubscription(id: string) {
        calls.push(`delete ${id}`);
      },
      async resources() {
        return [{ resourceId: 'R-1', name: 'Room 1', type: 'room' as const, locationId: 'HQ' }];
      },
    },
  };
}

let close: () => void = () => undefined;
afterEach(() => close());

describe('subscription lifetime', () => {
  it('plans with the promised expiry up to the 7 days the spec allows, never beyond', () => {
    expect(plannedExpiry(1000 + DAY, 1000)).toBe(1000 + DAY);
    expect(plannedExpiry(1000 + MAX_SUBSCRIPTION_MS, 1000)).toBe(1000 + MAX_SUBSCRIPTION_MS);
    expect(plannedExpiry(1000 + 30 * DAY, 1000)).toBe(1000 + MAX_SUBSCRIPTION_MS);
    expect(plannedExpiry(Number.NaN, 1000)).toBe(1000 + MAX_SUBSCRIPTION_MS);
  });

  it('a platform promising 30 days is renewed within 7, and the old secret then stops counting', async () => {
    const s = testStore(['front'], { 'R-1': ['front'] });
    close = s.close;
    const clock = new FakeClock();
    const p = platform(30 * DAY, clock);
    const manager = new SubscriptionManager({
      client: p.client,
      store: s.store,
      clock,
      logger: silentLogger,
      callbackUrl: 'https://gw.example/webhooks/offision',
      renewBeforeMs: DAY,
      random: (n) => Buffer.alloc(n, 7),
    });
    manager.setResources(['R-1']);
    await manager.ensure();
    expect(manager.live().map((r) => [r.subscriptionId, r.expiresAt - r.createdAt])).toEqual([['S-1', MAX_SUBSCRIPTION_MS]]);

    clock.advance(5 * DAY);
    await manager.ensure();
    expect(p.calls).toEqual(['create S-1']); // not yet: renewal is due a day before the 7

    clock.advance(DAY + 1);
    await manager.ensure();
    expect(p.calls).toEqual(['create S-1', 'create S-2', 'delete S-1']);
    expect(manager.live().map((r) => r.subscriptionId)).toEqual(['S-2']);
  });
});
