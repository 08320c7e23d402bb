import { resourceDoors } from '../config/access-model.js';
import type { Config } from '../config/schema.js';
import type { Db } from './db.js';
import type { Store, Tx } from './store.js';

export interface DoorDef {
  id: string;
  name: string;
}

/**
 * Makes the doors and the resource → door mapping in SQLite match the configuration.
 * Returns the resources whose door set changed, so booking grants can be re-derived for
 * ongoing and future bookings alike. The index hears of a changed door set from change_log.
 */
export function syncDoorsAndResources(
  tx: Tx,
  doors: readonly DoorDef[],
  resources: ReadonlyMap<string, readonly string[]>,
): string[] {
  const db = tx.db;
  const existing = new Map((db.prepare('SELECT id, name FROM doors').all() as DoorDef[]).map((d) => [d.id, d.name]));
  const wanted = new Set(doors.map((d) => d.id));
  for (const d of doors) {
    if (existing.get(d.id) !== d.name) {
      db.prepare('INSERT INTO doors (id, name) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name').run(d.id, d.name);
    }
  }
  for (const id of existing.keys()) {
    if (!wanted.has(id)) {
      db.prepare('DELETE FROM doors WHERE id = ?').run(id);
    }
  }
  const before = resourceDoorMap(db);
  const changed: string[] = [];
  const all = new Set([...before.keys(), ...resources.keys()]);
  for (const resourceId of all) {
    const was = [...(before.get(resourceId) ?? [])].sort().join('\n');
    const now = [...(resources.get(resourceId) ?? [])].sort();
    if (was === now.join('\n')) continue;
    db.prepare('DELETE FROM resource_doors WHERE resource_id = ?').run(resourceId);
    const insert = db.prepare('INSERT INTO resource_doors (resource_id, door_id) VALUES (?, ?)');
    for (const doorId of now) insert.run(resourceId, doorId);
    changed.push(resourceId);
  }
  return changed.sort();
}

export function resourceDoorMap(db: Db): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const rows = db.prepare('SELECT resource_id, door_id FROM resource_doors ORDER BY resource_id, door_id').all() as {
    resource_id: string;
    door_id: string;
  }[];
  for (const r of rows) {
    const list = map.get(r.resource_id);
    if (list) list.push(r.door_id);
    else map.set(r.resource_id, [r.door_id]);
  }
  return map;
}

/** The doors and resource mapping of a configuration (a resource's doors with its access groups' doors), applied in one transaction. */
export function syncFromConfig(store: Store, cfg: Pick<Config, 'doors' | 'resources' | 'zones' | 'accessGroups'>): string[] {
  const doors = cfg.doors.map((d) => ({ id: d.id, name: d.name ?? d.id }));
  const resources = new Map(cfg.resources.map((r) => [r.id, resourceDoors(cfg, r)]));
  return store.transact((tx) => syncDoorsAndResources(tx, doors, resources));
}
