import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/store/audit.js';
import { upsertPerson } from '../../src/store/people.js';
import { testStore } from '../helpers/store.js';

/* docs/durability.md: operator changes commit FULL (fsync before "done"), the audit log NORMAL. */
const FULL = 2;
const NORMAL = 1;

describe('durability per kind of write', () => {
  it('Store.transact commits at synchronous=FULL, then the connection is back at NORMAL', () => {
    const s = testStore(['front']);
    const seen = s.store.transact((tx) => {
      upsertPerson(tx, 'a@e.com', null, 0);
      return tx.db.pragma('synchronous', { simple: true });
    });
    expect(seen).toBe(FULL);
    expect(s.store.db.pragma('synchronous', { simple: true })).toBe(NORMAL);
    s.close();
  });

  it('re-derivable writes may ask for NORMAL; a failed transaction still restores the default', () => {
    const s = testStore(['front']);
    expect(s.store.transact((tx) => tx.db.pragma('synchronous', { simple: true }), { durability: 'normal' })).toBe(NORMAL);
    expect(() =>
      s.store.transact(() => {
        throw new Error('rejected input');
      }),
    ).toThrow('rejected input');
    expect(s.store.db.pragma('synchronous', { simple: true })).toBe(NORMAL);
    s.close();
  });

  it('the audit log commits at NORMAL', () => {
    const s = testStore(['front']);
    const audit = new AuditLog(s.store.db);
    audit.appendMany([{ at: 1, readerId: 'r', doorId: 'front', credential: '**61', personId: null, result: 'denied', reason: 'unknown_credential', relay: 'none' }]);
    expect(s.store.db.pragma('synchronous', { simple: true })).toBe(NORMAL);
    s.close();
  });
});
