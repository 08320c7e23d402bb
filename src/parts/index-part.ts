import { AccessIndex } from '../access/access-index.js';
import { sitePaths } from '../config/site-paths.js';
import type { StatusPart } from '../status-builder.js';
import type { ChangeMark } from '../store/change-log.js';
import { refreshDoors, refreshPeople } from '../store/index-loader.js';
import { saveIndexAtStop, startIndex } from '../store/index-start.js';
import { rederiveFromConfig } from '../upstream/booking-apply.js';
import { errorMessage } from '../util/errors.js';
import { SYNC_STOP_BOUND_MS, type Part, type PartContext } from './part.js';
import type { AccessPart } from './access-part.js';
import type { StorePart } from './store-part.js';
import { modelHash } from '../access/derive.js';

/**
 * The in-memory index every decision reads: loaded from the snapshot of the last clean stop or
 * from the tables, refreshed in the same synchronous step as each commit, and written down
 * again at stop for the next start (store/index-start.ts).
 */
export class IndexPart implements Part {
  readonly name = 'index';
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  /**
   * A rebuild after a gap in the change log is built beside it and swapped in here
   * (ExternalChangeWatch), so readers hold this part, never an AccessIndex.
   */
  private live = new AccessIndex();
  private ctx: PartContext | null = null;
  private mark: ChangeMark | null = null;
  /** A commit's index refresh failed: rebuilt beside the live one, and never saved as a snapshot at stop. */
  private suspect = false;
  private onSuspect: (() => void) | null = null;
  private appliedSeq: () => number | undefined = () => undefined;
  /** Builds a new index beside the live one and swaps it in (the change watcher's rebuild). */
  private rebuild: (() => void) | null = null;

  constructor(
    private readonly store: StorePart,
    private readonly access: AccessPart,
  ) {}

  get index(): AccessIndex {
    return this.live;
  }

  async start(ctx: PartContext): Promise<void> {
    this.ctx = ctx;
    const cfg = ctx.config();
    const { store, changedResources } = this.store.site;
    // While the index loads (on a worker, over several macrotasks) a commit of this connection is
    // held back and applied after the load: put into the half-filled index, a later page of the
    // load's older snapshot would overwrite it, and the watcher skips this connection's commits.
    let held: { doors: boolean; people: Set<number> } | null = { doors: false, people: new Set() };
    store.onCommit((change) => {
      if (held !== null) {
        held.doors ||= change.doors;
        for (const id of change.people) held.people.add(id);
        return;
      }
      if (change.doors) {
        refreshDoors(store.db, this.live);
        this.access.refreshSite(store.db);
      }
      if (change.people.size > 0) refreshPeople(store.db, this.live, change.people);
    });
    // The commit stands whatever a listener threw; an index that may have missed it is rebuilt.
    store.onListenerError((err) => {
      ctx.metrics.backgroundErrors.inc({ task: 'index-refresh' });
      ctx.logger.error({ err: errorMessage(err) }, 'index refresh after a commit failed; rebuilding the index beside the live one');
      this.suspect = true;
      this.onSuspect?.();
    });
    this.access.refreshSite(store.db);
    this.live = this.newIndex();
    this.mark = (await startIndex(store.db, this.live, sitePaths(cfg).indexSnapshot, ctx.logger.child({ part: 'store' }))).mark;
    const late = held;
    held = null;
    if (late.doors) {
      refreshDoors(store.db, this.live);
      this.access.refreshSite(store.db);
    }
    if (late.people.size > 0) refreshPeople(store.db, this.live, late.people);
    ctx.metrics.gauge('lintel_index_cards', 'Cards in the in-memory index', () => this.live.stats().cards);
    ctx.metrics.gauge('lintel_index_grants', 'Grants in the in-memory index', () => this.live.stats().grants);
    // Stored bookings outlive the config: a resource whose doors changed since the last run has
    // its booking grants re-derived now, ongoing ones included, before the platform link starts.
    if (changedResources.length > 0) rederiveFromConfig(store, cfg, changedResources, ctx.clock.now());
  }

  /** The live index and any rebuilt beside it (ExternalChangeWatch) are made alike. */
  newIndex(): AccessIndex {
    const ctx = this.ctx;
    if (!ctx) throw new Error('the index part has not started');
    const { subjects } = this.store.site;
    const accessLog = ctx.logger.child({ part: 'access' });
    const index = new AccessIndex({
      subjectOf: subjects.of,
      subjectKeyId: subjects.keyId,
      onSubjectCollision: (personIds) => accessLog.warn({ personIds }, 'these people share a member-token subject: their member tokens are refused'),
    });
    this.access.setUp(index);
    return index;
  }

  /** Another process switched a site flag (lockdown) or changed doors: read from the store. */
  siteChanged(): void {
    if (this.store.isOpen()) this.access.refreshSite(this.store.site.store.db);
  }

  /**
   * A reload changed the access model (the access part, before this one, compiled it): the live
   * index holds windows of the old groups and slots, so a new one is built beside it with the
   * new model and swapped in (decisions go on with the old model until then, never with none).
   */
  reloaded(): void {
    if (this.live.modelHash === modelHash(this.access.model)) return;
    this.ctx?.logger.info('access model changed: rebuilding the index beside the live one');
    this.rebuild?.();
  }

  swapIndex(fresh: AccessIndex): void {
    this.live = fresh;
  }

  /** The change-log mark taken before the index was filled: the watcher applies what came after. */
  get changeMark(): ChangeMark {
    if (!this.mark) throw new Error('the index part has not started');
    return this.mark;
  }

  /**
   * For the change watcher (background part): `rebuild` runs when a commit's refresh failed —
   * at once if that happened before it was wired — and `appliedSeq` says how far the index has
   * applied the change log, for the snapshot at stop.
   */
  watchedBy(rebuild: () => void, appliedSeq: () => number): void {
    this.onSuspect = rebuild;
    this.rebuild = rebuild;
    this.appliedSeq = appliedSeq;
    if (this.suspect) rebuild();
  }

  /**
   * An index that once missed a commit is not written down: the next start loads the tables.
   * Stopped before the watcher was wired (a SIGTERM soon after the first healthy answer), the
   * index holds the log up to the load's mark: what came after it from other connections is
   * not applied and not claimed, and own commits since are in it (held or applied at commit).
   */
  stop(): void {
    const ctx = this.ctx;
    if (!ctx || !this.mark || this.suspect || !this.store.isOpen()) return;
    const seq = this.appliedSeq() ?? this.mark.seq;
    saveIndexAtStop(this.store.store, this.live, seq, sitePaths(ctx.config()).indexSnapshot, ctx.clock.now(), ctx.logger.child({ part: 'store' }));
  }

  status(): StatusPart {
    return { index: this.live };
  }
}
