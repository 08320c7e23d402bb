import { describe, expect, it } from 'vitest';
import { decideCard } from '../../src/access/decide.js';
import { recentChanges } from '../../src/store/change-audit.js';
import { joinCompany, putCompany, UnknownCompanyError } from '../../src/store/company-admin.js';
import type { Store } from '../../src/store/store.js';
import {
  cancelSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  putSubscription,
  UnknownGroupError,
  UnknownSubscriptionError,
  type SubscriptionInput,
} from '../../src/store/subscription-admin.js';
import { InvalidInputError } from '../../src/store/subscription-rows.js';
import { auditCount, dump, giveCard, GROUPS, membershipsOf, modelledSites } from '../helpers/provisioning.js';

/*
 * Plan subscriptions on a real SQLite file, decided through the index as the gateway keeps it:
 * the rows a subscription writes into person_groups, idempotent retries, a subject that
 * changes, cancellation at a future instant, and refusals that leave every table as it was.
 */

const T0 = Date.parse('2026-12-03T09:00:00Z');
const DAY = 86_400_000;
const ACTOR = 'api:platform';

const site = modelledSites();

const ana = (over: Partial<SubscriptionInput> = {}): SubscriptionInput => ({
  subject: { email: 'ana@example.com', name: 'Ana' },
  groups: ['members'],
  startsAt: T0,
  endsAt: T0 + 30 * DAY,
  cancelledAt: null,
  ...over,
});

const put = (store: Store, id: string, input: SubscriptionInput, now = T0) => putSubscription(store, id, input, ACTOR, now, GROUPS);

describe('putSubscription', () => {
  it('creates a pending person, writes one person_groups row per group, and an identical PUT writes nothing at all', () => {
    const { store, index } = site();
    const first = put(store, 'sub-1', ana({ groups: ['lab', 'members', 'lab'] }));
    expect(first).toEqual({
      changed: true,
      created: true,
      subscription: { id: 'sub-1', subject: { email: 'ana@example.com' }, groups: ['lab', 'members'], startsAt: T0, endsAt: T0 + 30 * DAY, cancelledAt: null, createdAt: T0, updatedAt: T0 },
    });
    expect(membershipsOf(store, 'ana@example.com')).toEqual([
      ['lab', T0, T0 + 30 * DAY, 'subscription', 'sub-1'],
      ['members', T0, T0 + 30 * DAY, 'subscription', 'sub-1'],
    ]);
    expect(store.db.prepare('SELECT name FROM people').pluck().all()).toEqual(['Ana']);
    const before = dump(store);
    const audits = auditCount(store);
    // The same PUT retried later, with its groups in another order: nothing changes.
    expect(put(store, 'sub-1', ana({ groups: ['members', 'lab'] }), T0 + 60_000)).toEqual({ ...first, changed: false, created: false });
    expect(auditCount(store)).toBe(audits);
    expect(dump(store)).toEqual(before);
    // Pending until a card arrives; then the window decides.
    expect(decideCard(index, '7001', 'lab', T0).reason).toBe('unknown_credential');
    giveCard(store, 'ana@example.com', '7001', T0);
    expect(decideCard(index, '7001', 'lab', T0 - 1).reason).toBe('outside_window');
    expect(decideCard(index, '7001', 'lab', T0).result).toBe('granted');
    expect(decideCard(index, '7001', 'front', T0 + 30 * DAY - 1).result).toBe('granted');
    expect(decideCard(index, '7001', 'front', T0 + 30 * DAY).result).toBe('denied');
  });

  it('an edit rewrites the rows, and a changed subject moves them from one person to the other', () => {
    const { store } = site();
    put(store, 'sub-1', ana());
    expect(put(store, 'sub-1', ana({ groups: ['lab'], endsAt: null }), T0 + 1000)).toMatchObject({ changed: true, created: false, subscription: { createdAt: T0, updatedAt: T0 + 1000 } });
    expect(membershipsOf(store, 'ana@example.com')).toEqual([['lab', T0, null, 'subscription', 'sub-1']]);
    put(store, 'sub-1', ana({ subject: { email: 'bo@example.com' }, groups: ['lab'], endsAt: null }), T0 + 2000);
    expect(membershipsOf(store, 'ana@example.com')).toEqual([]);
    expect(membershipsOf(store, 'bo@example.com')).toEqual([['lab', T0, null, 'subscription', 'sub-1']]);
    expect(recentChanges(store).map((c) => c.action)).toEqual(['subscription.update', 'subscription.update', 'subscription.create']);
  });

  it('a company subscription is written for every member, and moving it to a person takes it from them', () => {
    const { store } = site();
    putCompany(store, 'acme', { name: 'Acme' }, ACTOR, T0);
    joinCompany(store, 'acme', 'ana@example.com', {}, ACTOR, T0);
    joinCompany(store, 'acme', 'bo@example.com', {}, ACTOR, T0);
    put(store, 'sub-acme', ana({ subject: { companyId: 'acme' } }));
    for (const email of ['ana@example.com', 'bo@example.com']) expect(membershipsOf(store, email)).toEqual([['members', T0, T0 + 30 * DAY, 'subscription', 'sub-acme']]);
    expect(getSubscription(store, 'sub-acme')?.subject).toEqual({ companyId: 'acme' });
    put(store, 'sub-acme', ana({ subject: { email: 'cy@example.com' } }), T0 + 1000);
    expect(membershipsOf(store, 'ana@example.com')).toEqual([]);
    expect(membershipsOf(store, 'bo@example.com')).toEqual([]);
    expect(membershipsOf(store, 'cy@example.com')).toEqual([['members', T0, T0 + 30 * DAY, 'subscription', 'sub-acme']]);
  });

  it('a new name for the subject person is written and audited once, the subscription untouched', () => {
    const { store } = site();
    put(store, 'sub-1', ana());
    expect(put(store, 'sub-1', ana({ subject: { email: 'ana@example.com', name: 'Ana B' } }), T0 + 1000)).toMatchObject({ changed: true, subscription: { updatedAt: T0 } });
    expect(store.db.prepare('SELECT name FROM people').pluck().all()).toEqual(['Ana B']);
    expect(recentChanges(store, 1)[0]).toMatchObject({ action: 'person.rename', target: 'sub-1' });
    // Without a name the person's stays: still no change.
    expect(put(store, 'sub-1', ana({ subject: { email: 'ana@example.com' } }), T0 + 2000).changed).toBe(false);
  });

  it('refuses an unknown group, an unknown company, and bad instants, writing nothing', () => {
    const { store } = site();
    put(store, 'sub-1', ana());
    const before = dump(store);
    expect(() => put(store, 'sub-2', ana({ subject: { email: 'new@example.com' }, groups: ['members', 'vault'] }))).toThrow(UnknownGroupError);
    expect(() => put(store, 'sub-1', ana({ groups: ['vault'] }))).toThrow(expect.objectContaining({ code: 'unknown_group', group: 'vault', field: 'groups' }));
    expect(() => put(store, 'sub-2', ana({ subject: { companyId: 'ghost' } }))).toThrow(UnknownCompanyError);
    expect(() => put(store, 'sub-2', ana({ endsAt: T0 }))).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'endsAt' }));
    expect(() => put(store, 'sub-2', ana({ startsAt: Number.NaN }))).toThrow(expect.objectContaining({ field: 'startsAt' }));
    expect(() => put(store, 'sub-2', ana({ subject: { email: '' } }))).toThrow(expect.objectContaining({ field: 'subject.email' }));
    expect(() => put(store, ' sub', ana())).toThrow(InvalidInputError);
    expect(dump(store)).toEqual(before);
  });
});

describe('cancelling', () => {
  it('at a future instant keeps access until that instant, then refuses; a retried cancel writes nothing', () => {
    const { store, index } = site();
    put(store, 'sub-1', ana({ endsAt: null }));
    giveCard(store, 'ana@example.com', '7001', T0);
    const at = T0 + 5 * DAY;
    expect(cancelSubscription(store, 'sub-1', at, ACTOR, T0 + DAY)).toMatchObject({ changed: true, subscription: { cancelledAt: at, updatedAt: T0 + DAY } });
    expect(membershipsOf(store, 'ana@example.com')).toEqual([['members', T0, at, 'subscription', 'sub-1']]);
    expect(decideCard(index, '7001', 'front', T0 + DAY).result).toBe('granted');
    expect(decideCard(index, '7001', 'front', at - 1).result).toBe('granted');
    expect(decideCard(index, '7001', 'front', at).result).toBe('denied');
    const before = dump(store);
    expect(cancelSubscription(store, 'sub-1', at, ACTOR, T0 + 2 * DAY).changed).toBe(false);
    expect(dump(store)).toEqual(before);
    expect(recentChanges(store, 1)[0]).toMatchObject({ action: 'subscription.cancel', target: 'sub-1', detail: JSON.stringify({ cancelledAt: at }) });
  });

  it('the earlier of end and cancellation ends access; cancelled before the start gives no rows', () => {
    const { store } = site();
    put(store, 'sub-1', ana({ cancelledAt: T0 + 40 * DAY }));
    expect(membershipsOf(store, 'ana@example.com')).toEqual([['members', T0, T0 + 30 * DAY, 'subscription', 'sub-1']]);
    cancelSubscription(store, 'sub-1', T0 - DAY, ACTOR, T0);
    expect(membershipsOf(store, 'ana@example.com')).toEqual([]);
    expect(getSubscription(store, 'sub-1')?.cancelledAt).toBe(T0 - DAY);
  });

  it('an unknown subscription is refused', () => {
    const { store } = site();
    expect(() => cancelSubscription(store, 'nope', T0, ACTOR, T0)).toThrow(UnknownSubscriptionError);
  });
});

describe('deleteSubscription', () => {
  it('removes the subscription and every row it gave; a second delete is a retry', () => {
    const { store, index } = site();
    putCompany(store, 'acme', { name: null }, ACTOR, T0);
    joinCompany(store, 'acme', 'ana@example.com', {}, ACTOR, T0);
    put(store, 'sub-acme', ana({ subject: { companyId: 'acme' } }));
    giveCard(store, 'ana@example.com', '7001', T0);
    expect(decideCard(index, '7001', 'front', T0 + DAY).result).toBe('granted');
    expect(deleteSubscription(store, 'sub-acme', ACTOR, T0 + DAY)).toEqual({ changed: true });
    expect(membershipsOf(store, 'ana@example.com')).toEqual([]);
    expect(getSubscription(store, 'sub-acme')).toBeUndefined();
    expect(decideCard(index, '7001', 'front', T0 + DAY).reason).toBe('no_grant');
    const before = dump(store);
    expect(deleteSubscription(store, 'sub-acme', ACTOR, T0 + DAY)).toEqual({ changed: false });
    expect(dump(store)).toEqual(before);
  });
});

describe('listSubscriptions', () => {
  it('pages in id order with an opaque cursor, filtered by email or company', () => {
    const { store } = site();
    putCompany(store, 'acme', { name: null }, ACTOR, T0);
    for (const id of ['s-05', 's-01', 's-03', 's-04', 's-02']) put(store, id, ana({ subject: id === 's-04' ? { companyId: 'acme' } : { email: id === 's-02' ? 'bo@example.com' : 'ana@example.com' } }));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = listSubscriptions(store, { limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.subscriptions.map((s) => s.id));
      if (page.nextCursor === null) break;
      expect(page.nextCursor).not.toContain('s-0');
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['s-01', 's-02', 's-03', 's-04', 's-05']);
    expect(listSubscriptions(store, { email: 'ANA@example.com', limit: 10 }).subscriptions.map((s) => s.id)).toEqual(['s-01', 's-03', 's-05']);
    const firstOfAna = listSubscriptions(store, { email: 'ana@example.com', limit: 1 });
    expect(listSubscriptions(store, { email: 'ana@example.com', cursor: firstOfAna.nextCursor!, limit: 5 }).subscriptions.map((s) => s.id)).toEqual(['s-03', 's-05']);
    expect(listSubscriptions(store, { email: 'nobody@example.com', limit: 10 })).toEqual({ subscriptions: [], nextCursor: null });
    expect(listSubscriptions(store, { companyId: 'acme', limit: 10 })).toMatchObject({ subscriptions: [{ id: 's-04', subject: { companyId: 'acme' } }], nextCursor: null });
    expect(() => listSubscriptions(store, { cursor: 'bogus', limit: 2 })).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'cursor' }));
    expect(() => listSubscriptions(store, { limit: 0 })).toThrow(expect.objectContaining({ field: 'limit' }));
  });
});
