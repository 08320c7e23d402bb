import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AccessIndex } from '../../src/access/access-index.js';
import { decideCard } from '../../src/access/decide.js';
import { CompiledSchedules } from '../../src/access/schedule/compiled-schedules.js';
import { accessModelOf } from '../../src/config/access-model.js';
import { parseConfig } from '../../src/config/load.js';
import { importCards } from '../../src/store/card-import.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { loadIndex, refreshDoors, refreshPeople } from '../../src/store/index-loader.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';

/* The README's worked example of the access model decides as the README says it does. */

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## The access model: zones, groups, schedules'), readme.indexOf('## Cards and staff access'));
const block = (lang: string) => section.match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'))![1]!;

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

describe("README's access-model example", () => {
  it('grants and refuses as the text says', () => {
    const config = parseConfig(parse(block('yaml')));
    const model = accessModelOf(config);
    const t = tempDir();
    const store = new Store(openDatabase(join(t.dir, 'lintel.db')));
    cleanup.push(() => (store.close(), t.cleanup()));
    const index = new AccessIndex();
    index.setModel(model, new CompiledSchedules(model));
    store.onCommit((c) => {
      if (c.doors) refreshDoors(store.db, index);
      refreshPeople(store.db, index, c.people);
    });
    store.transact((tx) => syncDoorsAndResources(tx, config.doors.map((d) => ({ id: d.id, name: d.id })), new Map()));
    loadIndex(store.db, index);
    importCards(store, block('csv'), Date.now(), { knownGroups: new Set(Object.keys(config.accessGroups)) });

    const at = (local: string) => Date.parse(local); // with Berlin's offset written out
    const reason = (card: string, when: string, lockdown = false) => decideCard(index, card, 'office', at(when), { site: { lockdown } });
    expect(decideCard(index, '1001', 'office', at('2026-12-08T10:00:00+01:00'))).toMatchObject({ reason: 'granted', source: 'group' }); // a Tuesday
    expect(reason('1001', '2026-12-08T20:00:00+01:00').reason).toBe('outside_schedule');
    expect(reason('1001', '2027-01-01T10:00:00+01:00').reason).toBe('holiday'); // a Friday
    expect(reason('2002', '2026-12-11T01:30:00+01:00').reason).toBe('granted'); // Friday 01:30, Thursday night's interval
    expect(reason('3003', '2026-12-08T10:00:00+01:00', true).reason).toBe('granted');
    expect(reason('1001', '2026-12-08T10:00:00+01:00', true).reason).toBe('lockdown');
    expect(reason('2002', '2026-12-11T01:30:00+01:00', true).reason).toBe('lockdown');
  });
});
