import { join } from 'node:path';
import { AccessIndex, type SubjectOf } from '../../src/access/access-index.js';
import { memberSubjectOf } from '../../src/qr/member-subject.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { replaceSourceGrants } from '../../src/store/grants.js';
import { refreshDoors, refreshPeople } from '../../src/store/index-loader.js';
import { upsertPerson } from '../../src/store/people.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';

export const T0 = Date.parse('2026-11-22T10:00:00Z');
export const H = 3600_000;
export const KEY = Buffer.alloc(32, 0x5a);

/**
 * A real SQLite store in a temp dir, with the index kept in step the way the gateway does it
 * (subjects hashed with `key`; collisions land in `collisions`).
 */
export function memberSite(opts: { key?: Buffer; subjectOf?: SubjectOf } = {}): {
  store: Store;
  index: AccessIndex;
  addPerson: (email: string, doors?: string[]) => number;
  collisions: number[][];
  close: () => void;
} {
  const t = tempDir('lintel-qr-');
  const store = new Store(openDatabase(join(t.dir, 'lintel.db')));
  const collisions: number[][] = [];
  const index = new AccessIndex({ subjectOf: opts.subjectOf ?? memberSubjectOf(opts.key ?? KEY), onSubjectCollision: (ids) => collisions.push(ids) });
  store.onCommit((c) => {
    if (c.doors) refreshDoors(store.db, index);
    refreshPeople(store.db, index, c.people);
  });
  store.transact((tx) =>
    syncDoorsAndResources(tx, [{ id: 'front', name: 'Front' }, { id: 'lab', name: 'Lab' }], new Map()),
  );
  const addPerson = (email: string, doors: string[] = ['front']) =>
    store.transact((tx) => {
      const id = upsertPerson(tx, email, null, T0 - H);
      replaceSourceGrants(
        tx,
        'staff',
        `test:${email}`,
        doors.map((doorId) => ({ personId: id, doorId, validFrom: T0 - H, validTo: T0 + 8 * H })),
      );
      return id;
    });
  return {
    store,
    index,
    addPerson,
    collisions,
    close: () => {
      store.close();
      t.cleanup();
    },
  };
}
