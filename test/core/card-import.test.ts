import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import { CardImportError, importCards } from '../../src/store/card-import.js';
import type { Store } from '../../src/store/store.js';
import { testStore } from '../helpers/store.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');

function dump(store: Store): string {
  const tables = ['people', 'credentials', 'grants'];
  return JSON.stringify(tables.map((t) => store.db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()));
}

describe('cards import', () => {
  let store: Store;
  let index: AccessIndex;
  let cleanup: () => void;

  beforeEach(() => {
    ({ store, index, close: cleanup } = testStore(['front', 'orion']));
  });
  afterEach(() => cleanup());

  it('imports the example list: cards in every format, staff grants, dated grants, disabled cards', () => {
    const csv = [
      'email,name,card,format,state,doors,valid_from,valid_to',
      'Ana@Example.com,Ana Silva,0001001,decimal,active,front;orion,,',
      'li@example.com,Li Wei,04:A2:2B:1C,hex-msb,,,,',
      'sam@example.com,Sam Roe,12:3456,wiegand26,active,front,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z',
      'old@example.com,Former,4004,decimal,disabled,front,,',
    ].join('\n');
    expect(importCards(store, csv, NOW)).toEqual({ people: 4, cards: 4, staffGrants: 4 });
    expect(decideCard(index, '1001', 'orion', NOW).result).toBe('granted');
    expect(decideCard(index, String(0x04a22b1c), 'front', NOW).reason).toBe('no_grant');
    expect(decideCard(index, String(12 * 65536 + 3456), 'front', NOW).result).toBe('granted');
    expect(decideCard(index, String(12 * 65536 + 3456), 'front', Date.parse('2027-01-01T00:00:00Z')).reason).toBe('outside_window');
    expect(decideCard(index, '4004', 'front', NOW).reason).toBe('credential_disabled');
  });

  it('a bad row is reported with its line number and nothing of the file is applied', () => {
    importCards(store, 'email,name,card,format,doors\nana@example.com,Ana,1001,decimal,front\n', NOW);
    const before = dump(store);
    const csv = [
      'email,name,card,format,doors',
      'ana@example.com,Ana,1001,decimal,',        // would revoke Ana's staff grant
      'bob@example.com,Bob,2002,decimal,front',
      'not-an-email,X,3003,decimal,front',          // line 4
      'eve@example.com,Eve,1:99999,wiegand26,front', // line 5: CN out of range
      'zed@example.com,Zed,5005,decimal,vault',     // line 6: unknown door
    ].join('\n');
    let err: CardImportError | undefined;
    try {
      importCards(store, csv, NOW);
    } catch (e) {
      err = e as CardImportError;
    }
    expect(err).toBeInstanceOf(CardImportError);
    expect(err!.problems.some((p) => p.startsWith('line 4: email'))).toBe(true);
    expect(err!.problems.some((p) => p.startsWith('line 5: card'))).toBe(true);
    expect(err!.problems).toContain('line 6: doors: unknown door "vault"');
    expect(dump(store)).toBe(before);
    expect(decideCard(index, '1001', 'front', NOW).result).toBe('granted');
    expect(decideCard(index, '2002', 'front', NOW).reason).toBe('unknown_credential');
  });

  it('a card that belongs to someone else rejects the whole file', () => {
    importCards(store, 'email,name,card\nana@example.com,Ana,1001\n', NOW);
    const before = dump(store);
    expect(() => importCards(store, 'email,name,card\nbob@example.com,Bob,7\neve@example.com,Eve,0001001\n', NOW)).toThrow(/line 3: card/);
    expect(dump(store)).toBe(before);
  });

  it('the same card twice in one file for two people is an error; empty files are refused', () => {
    expect(() => importCards(store, 'email,card\na@e.com,5\nb@e.com,005\n', NOW)).toThrow(/line 3: card: the same card/);
    expect(() => importCards(store, 'email,card\n', NOW)).toThrow(/no rows/);
    expect(() => importCards(store, 'email,card\n"unterminated,5\n', NOW)).toThrow(/CSV/);
  });
});
