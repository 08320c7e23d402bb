import { join } from 'node:path';
import { AccessIndex } from '../../src/access/access-index.js';
import { openDatabase } from '../../src/store/db.js';
import { syncDoorsAndResources } from '../../src/store/doors.js';
import { loadIndex, refreshDoors, refreshPeople } from '../../src/store/index-loader.js';
import { Store, type ChangeSet } from '../../src/store/store.js';
import { tempDir } from './tmp.js';

/** A real SQLite file with doors, and an index kept in step by onCommit, as the gateway wires it. */
export function testStore(doors: string[], resources: Record<string, string[]> = {}): {
  store: Store;
  index: AccessIndex;
  close: () => void;
} {
  const t = tempDir();
  const store = new Store(openDatabase(join(t.dir, 'lintel.db')));
  const index = new AccessIndex();
  store.onCommit((c) => {
    if (c.doors) refreshDoors(store.db, index);
    refreshPeople(store.db, index, c.people);
  });
  store.transact((tx) => syncDoorsAndResources(tx, doors.map((id) => ({ id, name: id })), new Map(Object.entries(resources))));
  loadIndex(store.db, index);
  return {
    store,
    index,
    close: () => {
      store.close();
      t.cleanup();
    },
  };
}

/** Every change set the store's commits announce, copied as heard (the projection's tests read them). */
export function heardCommits(store: Store): ChangeSet[] {
  const heard: ChangeSet[] = [];
  store.onCommit((c) => void heard.push({ people: new Set(c.people), doors: c.doors }));
  return heard;
}

/** A real SQLite file in a fresh temporary directory, with no index: for use cases that only write. */
export function fileStore(): { store: Store; close: () => void } {
  const t = tempDir();
  const store = new Store(openDatabase(join(t.dir, 'lintel.db')));
  return {
    store,
    close: () => {
      store.close();
      t.cleanup();
    },
  };
}
