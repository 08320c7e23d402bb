import type { Config } from '../../config/schema.js';
import { openSiteStore } from '../../site-store.js';
import type { Store } from '../../store/store.js';

/**
 * The upstream thread's own connection to the site database. Besides what every connection
 * gets (openDatabase), its savepoint journals are kept in memory (temp_store = MEMORY): the
 * reconciler applies each fetched list in its own savepoint (ApplyBatcher), and SQLite writes
 * the original of every page a savepoint changes to a sub-journal, on disk once it passes
 * 64 KiB. A sweep from empty created, wrote, truncated and unlinked that temporary file with
 * every list: a quarter of its CPU (22–26 % in alternating runs of bench/reconcile-cpu.ts,
 * BENCHMARKS.md issue 10). The sub-journal only serves rolling back a savepoint inside an open
 * transaction; a crash never reads it (the WAL is what recovers), so durability is unchanged.
 * Its size is bounded by one batch's pages: the batcher commits at least every APPLY_SLICE_MS.
 */
export function openUpstreamThreadStore(config: Config): Store {
  const { store } = openSiteStore(config);
  store.db.pragma('temp_store = MEMORY');
  return store;
}
