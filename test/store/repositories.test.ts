import { afterEach, describe, expect, it } from 'vitest';
import { CredentialConflictError } from '../../src/store/credentials-repository.js';
import { testStore } from '../helpers/store.js';

/*
 * The repositories' own rules, beside what the history test checks of them all: bounds that
 * must be ordered, a card that stays with its holder, token revocation only on the change,
 * memberships owned by their source, site flags written once per change.
 */

const T0 = Date.parse('2026-12-02T10:00:00Z');
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function setup() {
  const s = testStore(['front']);
  cleanup.push(s.close);
  return s;
}

describe('repositories on Tx', () => {
  it('people and cards: validity must end after it starts; an open bound is NULL', () => {
    const { store } = setup();
    store.transact((tx) => {
      const id = tx.people.upsert('Ana@Example.com ', 'Ana', T0);
      expect(tx.people.byEmail('ana@example.com')).toMatchObject({ id, email: 'ana@example.com', valid_from: null, valid_to: null });
      expect(() => tx.people.setValidity(id, { from: T0, to: T0 }, T0)).toThrow(RangeError);
      tx.people.setValidity(id, { from: null, to: T0 + 1 }, T0);
      expect(tx.people.byId(id)).toMatchObject({ valid_from: null, valid_to: T0 + 1 });
      tx.credentials.assign(id, '1001', 'decimal', 'active', T0);
      expect(() => tx.credentials.setValidity('1001', { from: T0 + 5, to: T0 }, T0)).toThrow(RangeError);
      expect(tx.credentials.setValidity('1001', { from: T0, to: null }, T0)).toBe(true);
      expect(tx.credentials.setValidity('9999', { from: T0, to: null }, T0)).toBe(false);
      expect(tx.credentials.byNumber('1001')).toMatchObject({ person_id: id, state: 'active', valid_from: T0, valid_to: null });
    });
  });

  it("another person's card is a conflict; taking an active card away revokes tokens once, not on every re-import", () => {
    const { store } = setup();
    store.transact((tx) => {
      const ana = tx.people.upsert('ana@example.com', null, T0);
      const ben = tx.people.upsert('ben@example.com', null, T0);
      tx.credentials.assign(ana, '1001', 'decimal', 'active', T0);
      expect(() => tx.credentials.assign(ben, '1001', 'decimal', 'active', T0)).toThrow(CredentialConflictError);
      tx.credentials.setState('1001', 'lost', T0);
      const revokedAt = tx.people.byId(ana)!.tokens_valid_after;
      expect(revokedAt).toBeGreaterThan(T0);
      tx.credentials.assign(ana, '1001', 'decimal', 'lost', T0 + 60_000);
      expect(tx.people.byId(ana)!.tokens_valid_after).toBe(revokedAt);
      expect(tx.credentials.count(ana)).toEqual({ total: 1, active: 0 });
      expect(tx.credentials.remove('1001')).toBe(true);
      expect(tx.credentials.ofPerson(ana)).toEqual([]);
    });
  });

  it('memberships: each source replaces its own rows; dropping a source item reaches every holder', () => {
    const { store } = setup();
    store.transact((tx) => {
      const ana = tx.people.upsert('ana@example.com', null, T0);
      const ben = tx.people.upsert('ben@example.com', null, T0);
      tx.groups.replace(ana, 'subscription', 'sub-1', [{ group: 'gym', validFrom: T0, validTo: T0 + 1000 }]);
      tx.groups.replace(ben, 'subscription', 'sub-1', [{ group: 'gym', validFrom: null, validTo: null }]);
      tx.groups.replace(ana, 'staff', 'import:ana', [{ group: 'staff', validFrom: null, validTo: null }]);
      // The same group twice in one call: one row, the last bounds.
      tx.groups.replace(ana, 'api', 'key', [
        { group: 'lab', validFrom: null, validTo: null },
        { group: 'lab', validFrom: T0, validTo: null },
      ]);
      expect(tx.groups.members('gym')).toEqual([ana, ben]);
      expect(tx.groups.ofPerson(ana).map((m) => [m.group_id, m.source, m.valid_from])).toEqual([
        ['gym', 'subscription', T0],
        ['lab', 'api', T0],
        ['staff', 'staff', null],
      ]);
      expect(tx.groups.dropSource('subscription', 'sub-1')).toBe(2);
      expect(tx.groups.members('gym')).toEqual([]);
      expect(tx.people.remove(ana)).toBe(true);
      expect(tx.groups.members('staff')).toEqual([]);
    });
  });

  it('site flags: who and when of the last change; the same value twice is written once', () => {
    const { store } = setup();
    store.transact((tx) => {
      expect(tx.site.get('lockdown')).toBeUndefined();
      expect(tx.site.setLockdown(true, T0, 'ana')).toBe(true);
      expect(tx.site.setLockdown(true, T0 + 1, 'ben')).toBe(false);
      expect(tx.site.get('lockdown')).toEqual({ value: 'on', updatedAt: T0, updatedBy: 'ana' });
      expect(tx.site.lockdown()).toEqual({ on: true, updatedAt: T0, updatedBy: 'ana' });
    });
  });
});
