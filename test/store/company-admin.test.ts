import { describe, expect, it } from 'vitest';
import { decideCard } from '../../src/access/decide.js';
import { recentChanges } from '../../src/store/change-audit.js';
import { deleteCompany, getCompany, joinCompany, leaveCompany, putCompany, UnknownCompanyError } from '../../src/store/company-admin.js';
import { InvalidInputError } from '../../src/store/subscription-rows.js';
import { putSubscription } from '../../src/store/subscription-admin.js';
import { auditCount, dump, giveCard, GROUPS, membershipsOf, modelledSites } from '../helpers/provisioning.js';

/*
 * Companies and their members on a real SQLite file, with the index kept in step as the
 * gateway wires it: a company subscription follows membership in the same commit, and every
 * retry of a PUT that is already true writes nothing at all.
 */

const T0 = Date.parse('2026-12-03T09:00:00Z');
const DAY = 86_400_000;
const ACTOR = 'api:platform';

const site = modelledSites();

describe('putCompany', () => {
  it('creates, renames, and an identical PUT writes nothing, not even updated_at', () => {
    const { store } = site();
    expect(putCompany(store, 'acme', { name: 'Acme' }, ACTOR, T0)).toMatchObject({ changed: true, created: true, company: { id: 'acme', name: 'Acme', members: [], createdAt: T0 } });
    const before = dump(store);
    expect(putCompany(store, 'acme', { name: 'Acme' }, ACTOR, T0 + 1000)).toMatchObject({ changed: false, company: { updatedAt: T0 } });
    expect(dump(store)).toEqual(before);
    expect(putCompany(store, 'acme', { name: 'Acme Ltd' }, ACTOR, T0 + 2000)).toMatchObject({ changed: true, created: false, company: { name: 'Acme Ltd', createdAt: T0, updatedAt: T0 + 2000 } });
    expect(recentChanges(store).map((c) => [c.action, c.target, c.actor])).toEqual([
      ['company.update', 'acme', ACTOR],
      ['company.create', 'acme', ACTOR],
    ]);
  });

  it('refuses an empty id before writing', () => {
    const { store } = site();
    const before = dump(store);
    expect(() => putCompany(store, '', { name: 'x' }, ACTOR, T0)).toThrow(InvalidInputError);
    expect(dump(store)).toEqual(before);
  });
});

describe('joining and leaving', () => {
  function acmeWithPlan(store: Parameters<typeof putCompany>[0]) {
    putCompany(store, 'acme', { name: 'Acme' }, ACTOR, T0);
    putSubscription(store, 'sub-acme', { subject: { companyId: 'acme' }, groups: ['members'], startsAt: T0, endsAt: T0 + 30 * DAY, cancelledAt: null }, ACTOR, T0, GROUPS);
  }

  it('an unknown person is created pending, gets the company subscription at once, and opens the door the moment a card arrives', () => {
    const { store, index } = site();
    acmeWithPlan(store);
    const joined = joinCompany(store, 'acme', 'Ana@Example.com', { name: 'Ana' }, ACTOR, T0 + 1000);
    expect(joined).toEqual({ changed: true, companyId: 'acme', email: 'ana@example.com', personCreated: true, movedFrom: null });
    expect(store.db.prepare('SELECT name FROM people WHERE email = ?').pluck().get('ana@example.com')).toBe('Ana');
    expect(membershipsOf(store, 'ana@example.com')).toEqual([['members', T0, T0 + 30 * DAY, 'subscription', 'sub-acme']]);
    expect(getCompany(store, 'acme')?.members).toEqual(['ana@example.com']);
    expect(decideCard(index, '4242', 'front', T0 + DAY).reason).toBe('unknown_credential');
    giveCard(store, 'ana@example.com', '4242', T0 + 2000);
    expect(decideCard(index, '4242', 'front', T0 + DAY).result).toBe('granted');
    expect(decideCard(index, '4242', 'lab', T0 + DAY).result).toBe('denied');
    expect(decideCard(index, '4242', 'front', T0 + 30 * DAY).result).toBe('denied');
  });

  it('a repeated join writes nothing; leave removes the company rows at once and the door shuts', () => {
    const { store, index } = site();
    acmeWithPlan(store);
    joinCompany(store, 'acme', 'ana@example.com', {}, ACTOR, T0);
    giveCard(store, 'ana@example.com', '4242', T0);
    const before = dump(store);
    expect(joinCompany(store, 'acme', 'ANA@example.com', {}, ACTOR, T0 + 5000).changed).toBe(false);
    expect(dump(store)).toEqual(before);
    expect(decideCard(index, '4242', 'front', T0 + DAY).result).toBe('granted');
    expect(leaveCompany(store, 'acme', 'ana@example.com', ACTOR, T0 + DAY)).toMatchObject({ changed: true });
    expect(membershipsOf(store, 'ana@example.com')).toEqual([]);
    expect(decideCard(index, '4242', 'front', T0 + DAY).reason).toBe('no_grant');
    // The person stays, with their card; a second leave is a retry, not an error.
    expect(store.db.prepare('SELECT count(*) FROM credentials').pluck().get()).toBe(1);
    const left = dump(store);
    expect(leaveCompany(store, 'acme', 'ana@example.com', ACTOR, T0 + DAY + 1)).toMatchObject({ changed: false });
    expect(leaveCompany(store, 'acme', 'nobody@example.com', ACTOR, T0 + DAY + 1)).toMatchObject({ changed: false });
    expect(dump(store)).toEqual(left);
    expect(recentChanges(store).map((c) => [c.action, c.target])).toEqual([
      ['company.leave', 'acme/ana@example.com'],
      ['company.join', 'acme/ana@example.com'],
      ['subscription.create', 'sub-acme'],
      ['company.create', 'acme'],
    ]);
  });

  it('moving to another company leaves the old one: its subscription goes, the new one comes, other sources stay', () => {
    const { store, index } = site();
    acmeWithPlan(store);
    putCompany(store, 'labco', { name: null }, ACTOR, T0);
    putSubscription(store, 'sub-labco', { subject: { companyId: 'labco' }, groups: ['lab'], startsAt: T0, endsAt: null, cancelledAt: null }, ACTOR, T0, GROUPS);
    joinCompany(store, 'acme', 'ana@example.com', {}, ACTOR, T0);
    store.transact((tx) => tx.groups.replace(tx.people.byEmail('ana@example.com')!.id, 'staff', 'cards.csv', [{ group: 'members', validFrom: null, validTo: null }]));
    giveCard(store, 'ana@example.com', '4242', T0);
    expect(joinCompany(store, 'labco', 'ana@example.com', {}, ACTOR, T0 + 1000)).toEqual({ changed: true, companyId: 'labco', email: 'ana@example.com', personCreated: false, movedFrom: 'acme' });
    expect(membershipsOf(store, 'ana@example.com')).toEqual([
      ['members', null, null, 'staff', 'cards.csv'],
      ['lab', T0, null, 'subscription', 'sub-labco'],
    ]);
    expect(getCompany(store, 'acme')?.members).toEqual([]);
    expect(getCompany(store, 'labco')?.members).toEqual(['ana@example.com']);
    expect(decideCard(index, '4242', 'lab', T0 + DAY).result).toBe('granted');
    expect(recentChanges(store, 1)[0]).toMatchObject({ action: 'company.join', target: 'labco/ana@example.com', detail: JSON.stringify({ movedFrom: 'acme' }) });
  });

  it('joining gives only live company subscriptions: an ended one is not written', () => {
    const { store } = site();
    putCompany(store, 'acme', { name: 'Acme' }, ACTOR, T0);
    putSubscription(store, 'old', { subject: { companyId: 'acme' }, groups: ['lab'], startsAt: T0 - 10 * DAY, endsAt: T0 - DAY, cancelledAt: null }, ACTOR, T0, GROUPS);
    putSubscription(store, 'next', { subject: { companyId: 'acme' }, groups: ['members'], startsAt: T0 + DAY, endsAt: null, cancelledAt: null }, ACTOR, T0, GROUPS);
    joinCompany(store, 'acme', 'ana@example.com', {}, ACTOR, T0);
    expect(membershipsOf(store, 'ana@example.com')).toEqual([['members', T0 + DAY, null, 'subscription', 'next']]);
  });

  it('an unknown company is refused and nothing is written, not even the person', () => {
    const { store } = site();
    const before = dump(store);
    expect(() => joinCompany(store, 'ghost', 'ana@example.com', { name: 'Ana' }, ACTOR, T0)).toThrow(UnknownCompanyError);
    expect(() => leaveCompany(store, 'ghost', 'ana@example.com', ACTOR, T0)).toThrow(expect.objectContaining({ code: 'unknown_company', companyId: 'ghost' }));
    expect(() => joinCompany(store, 'acme', 'not-an-email', {}, ACTOR, T0)).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'email' }));
    expect(dump(store)).toEqual(before);
  });
});

describe('deleteCompany', () => {
  it('members stay as people and lose only what the company subscriptions gave; a second delete is a retry', () => {
    const { store, index } = site();
    putCompany(store, 'acme', { name: 'Acme' }, ACTOR, T0);
    putSubscription(store, 'sub-acme', { subject: { companyId: 'acme' }, groups: ['members', 'lab'], startsAt: T0, endsAt: null, cancelledAt: null }, ACTOR, T0, GROUPS);
    joinCompany(store, 'acme', 'ana@example.com', {}, ACTOR, T0);
    joinCompany(store, 'acme', 'bo@example.com', {}, ACTOR, T0);
    putSubscription(store, 'sub-bo', { subject: { email: 'bo@example.com' }, groups: ['lab'], startsAt: T0, endsAt: null, cancelledAt: null }, ACTOR, T0, GROUPS);
    giveCard(store, 'ana@example.com', '1001', T0);
    giveCard(store, 'bo@example.com', '1002', T0);
    expect(decideCard(index, '1001', 'lab', T0 + DAY).result).toBe('granted');
    expect(deleteCompany(store, 'acme', ACTOR, T0 + DAY)).toEqual({ changed: true });
    expect(getCompany(store, 'acme')).toBeUndefined();
    expect(store.db.prepare('SELECT email FROM people ORDER BY email').pluck().all()).toEqual(['ana@example.com', 'bo@example.com']);
    expect(store.db.prepare('SELECT id FROM subscriptions').pluck().all()).toEqual(['sub-bo']);
    expect(membershipsOf(store, 'ana@example.com')).toEqual([]);
    expect(membershipsOf(store, 'bo@example.com')).toEqual([['lab', T0, null, 'subscription', 'sub-bo']]);
    expect(decideCard(index, '1001', 'front', T0 + DAY).reason).toBe('no_grant');
    expect(decideCard(index, '1002', 'lab', T0 + DAY).result).toBe('granted');
    expect(recentChanges(store, 1)[0]).toMatchObject({ action: 'company.delete', target: 'acme', detail: JSON.stringify({ members: 2, subscriptions: ['sub-acme'] }) });
    const after = auditCount(store);
    expect(deleteCompany(store, 'acme', ACTOR, T0 + DAY + 1)).toEqual({ changed: false });
    expect(auditCount(store)).toBe(after);
  });
});
