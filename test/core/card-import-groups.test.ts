import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configuredAccessGroups } from '../../src/cli/cards-import.js';
import { CardImportError, importCardFile, importCards } from '../../src/store/card-import.js';
import { formatPerson, showPerson } from '../../src/store/people-report.js';
import type { Store } from '../../src/store/store.js';
import { testStore } from '../helpers/store.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The card list's `groups` column: `;`-separated access-group ids of the configuration that
 * become exactly the person's 'staff' memberships, dated like the row's doors. An id the
 * configuration does not have rejects the file with its line, and nothing is written.
 */

const NOW = Date.parse('2026-12-02T10:00:00Z');
const KNOWN = new Set(['staff', 'cleaners', 'night shift']);

function memberships(store: Store, email: string): { group_id: string; source: string; valid_from: number | null; valid_to: number | null }[] {
  return store.db
    .prepare('SELECT g.group_id, g.source, g.valid_from, g.valid_to FROM person_groups g JOIN people p ON p.id = g.person_id WHERE p.email = ? ORDER BY g.group_id')
    .all(email) as { group_id: string; source: string; valid_from: number | null; valid_to: number | null }[];
}

describe('cards import: the groups column', () => {
  let store: Store;
  let cleanup: () => void;
  beforeEach(() => {
    ({ store, close: cleanup } = testStore(['front']));
  });
  afterEach(() => cleanup());

  it("replaces the people's staff memberships, leaves other sources' alone, and dates them like the doors", () => {
    const ana = store.transact((tx) => {
      const id = tx.people.upsert('ana@example.com', null, NOW);
      tx.groups.replace(id, 'staff', 'operator', [{ group: 'old', validFrom: null, validTo: null }]);
      tx.groups.replace(id, 'subscription', 'sub-1', [{ group: 'cleaners', validFrom: null, validTo: null }]);
      return id;
    });
    const csv = [
      'email,card,groups,valid_from,valid_to',
      'ana@example.com,1001, staff ; night shift ,,',
      'li@example.com,1002,cleaners,2026-12-01T00:00:00Z,2027-01-01T00:00:00Z',
      'sam@example.com,1003,,,',
    ].join('\n');
    expect(importCards(store, csv, NOW, { knownGroups: KNOWN })).toEqual({ people: 3, cards: 3, staffGrants: 0, memberships: 3 });
    expect(memberships(store, 'ana@example.com')).toEqual([
      { group_id: 'cleaners', source: 'subscription', valid_from: null, valid_to: null },
      { group_id: 'night shift', source: 'staff', valid_from: null, valid_to: null },
      { group_id: 'staff', source: 'staff', valid_from: null, valid_to: null },
    ]);
    expect(memberships(store, 'li@example.com')).toEqual([
      { group_id: 'cleaners', source: 'staff', valid_from: Date.parse('2026-12-01T00:00:00Z'), valid_to: Date.parse('2027-01-01T00:00:00Z') },
    ]);
    // What `lintel people show` prints of them.
    expect(showPerson(store, 'li@example.com')).toMatchObject({
      validFrom: null,
      groups: [{ group: 'cleaners', source: 'staff', validFrom: '2026-12-01T00:00:00.000Z', validTo: '2027-01-01T00:00:00.000Z' }],
    });
    expect(formatPerson(showPerson(store, 'li@example.com'))).toContain('  group cleaners: staff, 2026-12-01T00:00:00.000Z – 2027-01-01T00:00:00.000Z');
    // An empty cell in a file with the column: no staff memberships.
    importCards(store, 'email,groups\nana@example.com,\n', NOW, { knownGroups: KNOWN });
    expect(memberships(store, 'ana@example.com').map((m) => m.source)).toEqual(['subscription']);
    expect(store.transact((tx) => tx.groups.ofPerson(ana))).toHaveLength(1);
  });

  it('a file without the column (written before groups existed) leaves memberships as they are', () => {
    importCards(store, 'email,groups\nana@example.com,staff\n', NOW, { knownGroups: KNOWN });
    expect(importCards(store, 'email,card,doors\nana@example.com,1001,front\n', NOW, { knownGroups: KNOWN })).toEqual({ people: 1, cards: 1, staffGrants: 1 });
    expect(memberships(store, 'ana@example.com').map((m) => m.group_id)).toEqual(['staff']);
  });

  it('an unknown group rejects the file with its line; nothing is written', () => {
    const before = JSON.stringify(store.db.prepare('SELECT * FROM people').all());
    const csv = ['email,card,groups', 'ana@example.com,1001,staff', 'li@example.com,1002,staff;visitors;vip'].join('\n');
    let problems: string[] = [];
    try {
      importCards(store, csv, NOW, { knownGroups: KNOWN });
    } catch (err) {
      expect(err).toBeInstanceOf(CardImportError);
      problems = (err as CardImportError).problems;
    }
    expect(problems).toEqual(['line 3: groups: unknown access group "visitors", "vip"']);
    expect(JSON.stringify(store.db.prepare('SELECT * FROM people').all())).toBe(before);
  });

  it('without the configuration’s groups every id is unknown; dates need doors or groups', () => {
    expect(() => importCards(store, 'email,groups\nana@example.com,staff\n', NOW)).toThrow('line 2: groups: unknown access group "staff"');
    expect(() => importCards(store, 'email,valid_from\nana@example.com,2026-12-01T00:00:00Z\n', NOW)).toThrow('line 2: valid_from/valid_to need doors or groups');
  });

  it('the streamed file import takes the same groups', async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, 'cards.csv');
      writeFileSync(file, 'email,card,groups\nana@example.com,1001,cleaners\n');
      expect(await importCardFile(store, file, NOW, { knownGroups: KNOWN })).toMatchObject({ memberships: 1 });
      expect(memberships(store, 'ana@example.com').map((m) => m.group_id)).toEqual(['cleaners']);
    } finally {
      t.cleanup();
    }
  });

  it("the CLI reads the configuration's group ids whether accessGroups is a map or a list", () => {
    expect(configuredAccessGroups({ doors: [] })).toBeUndefined();
    expect([...configuredAccessGroups({ accessGroups: { staff: {}, cleaners: {} } })!]).toEqual(['staff', 'cleaners']);
    expect([...configuredAccessGroups({ accessGroups: [{ id: 'staff' }] })!]).toEqual(['staff']);
  });
});
