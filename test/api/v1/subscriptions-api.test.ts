import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tableHashes, v1Site, type V1Site } from '../../helpers/v1-api.js';

/*
 * Companies and plan subscriptions through /api/v1 with app.request(): a company subscription
 * follows membership at once, a cancellation ahead keeps access until that instant, a retried
 * PUT writes nothing, and the person's view shows what each subscription gives.
 */

type Person = { company: string | null; pending: boolean; subscriptionGroups: { group: string; subscription: string; validFrom: string | null; validTo: string | null }[] };

describe('/api/v1 companies and subscriptions', () => {
  let s: V1Site;
  beforeEach(() => {
    s = v1Site();
  });
  afterEach(() => s.close());
  const person = async (email: string) => (await (await s.call('GET', `/api/v1/people/${email}`)).json()) as Person;

  it("a company's subscription reaches a member the moment they join and leaves with them", async () => {
    expect((await s.call('PUT', '/api/v1/companies/acme', { body: { name: 'Acme' } })).status).toBe(201);
    const sub = await s.call('PUT', '/api/v1/subscriptions/plan-7', { body: { companyId: 'acme', groups: ['staff', 'lab'], startsAt: '2026-12-01T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' } });
    expect(sub.status).toBe(201);
    expect(await sub.json()).toEqual({ id: 'plan-7', companyId: 'acme', groups: ['lab', 'staff'], startsAt: '2026-12-01T00:00:00.000Z', endsAt: '2027-01-01T00:00:00.000Z', cancelledAt: null });

    // The member does not exist yet: joining creates them, pending until a card arrives.
    const joined = await s.call('PUT', '/api/v1/companies/acme/members/ana@example.com', { body: { name: 'Ana' } });
    expect(joined.status).toBe(200);
    expect(((await joined.json()) as { members: string[] }).members).toEqual(['ana@example.com']);
    const ana = await person('ana@example.com');
    expect(ana).toMatchObject({ company: 'acme', pending: true });
    expect(ana.subscriptionGroups.map((g) => [g.group, g.subscription, g.validTo])).toEqual([
      ['lab', 'plan-7', '2027-01-01T00:00:00.000Z'],
      ['staff', 'plan-7', '2027-01-01T00:00:00.000Z'],
    ]);
    const listed = (await (await s.call('GET', '/api/v1/people?company=acme')).json()) as { items: { email: string }[] };
    expect(listed.items.map((p) => p.email)).toEqual(['ana@example.com']);

    expect((await s.call('DELETE', '/api/v1/companies/acme/members/ana@example.com')).status).toBe(204);
    expect(await person('ana@example.com')).toMatchObject({ company: null, subscriptionGroups: [] });
    expect((await s.call('DELETE', '/api/v1/companies/acme/members/ana@example.com')).status).toBe(404);
  });

  it('a cancellation ahead ends access at that instant; a retried PUT writes nothing', async () => {
    const body = { email: 'bo@example.com', name: 'Bo', groups: ['staff'], startsAt: '2026-12-01T00:00:00Z' };
    expect((await s.call('PUT', '/api/v1/subscriptions/sub-1', { body })).status).toBe(201);
    const before = tableHashes(s.store.db);
    s.clock.advance(5_000); // under a minute: the token's last-use time is not due yet
    const retry = await s.call('PUT', '/api/v1/subscriptions/sub-1', { body });
    expect(retry.status).toBe(200);
    expect(tableHashes(s.store.db)).toEqual(before);

    const cancelled = await s.call('PUT', '/api/v1/subscriptions/sub-1', { body: { ...body, cancelledAt: '2026-12-15T12:00:00Z' } });
    expect(cancelled.status).toBe(200);
    expect((await person('bo@example.com')).subscriptionGroups).toEqual([{ group: 'staff', subscription: 'sub-1', validFrom: '2026-12-01T00:00:00.000Z', validTo: '2026-12-15T12:00:00.000Z' }]);
    const page = (await (await s.call('GET', '/api/v1/subscriptions?email=bo@example.com', { token: s.tokens.read })).json()) as { items: { id: string; cancelledAt: string }[]; next: string | null };
    expect(page).toEqual({ items: [expect.objectContaining({ id: 'sub-1', cancelledAt: '2026-12-15T12:00:00.000Z' })], next: null });

    expect((await s.call('DELETE', '/api/v1/subscriptions/sub-1')).status).toBe(204);
    expect((await person('bo@example.com')).subscriptionGroups).toEqual([]);
    expect((await s.call('GET', '/api/v1/subscriptions/sub-1')).status).toBe(404);
  });
});
