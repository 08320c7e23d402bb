import { AccessIndex } from '../access/access-index.js';
import { sitePaths } from '../config/site-paths.js';
import { openSiteStore } from '../site-store.js';
import type { StatusPart } from '../status-builder.js';
import { AuditLog } from '../store/audit.js';
import { syncFromConfig } from '../store/doors.js';
import type { ChangeMark } from '../store/external-changes.js';
import { refreshDoors, refreshPeople } from '../store/index-loader.js';
import { saveIndexAtStop, startIndex } from '../store/index-start.js';
import type { Store } from '../store/store.js';
import type { SubjectHasher } from '../store/subject-columns.js';
import { rederiveFromConfig } from '../upstream/booking-apply.js';
import { errorMessage } from '../util/errors.js';
import type { Part, PartContext } from './part.js';

interface Opened {
  store: Store;
  audit: AuditLog;
  key: Buffer;
  subjects: SubjectHasher;
  dbFile: string;
  changeMark: ChangeMark;
}

/**
 * Local state, before anything that decides: SQLite, the config-owned doors and resource
 * mapping, and the index every decision reads. Stopped last, so it is what every other part's
 * stop can still write to; its stop writes the index snapshot for the next start and closes the
 * database, both synchronous (the bound cannot cut them short, and need not).
 */
export class StorePart implements Part {
  readonly name = 'store';
  readonly stopBoundMs = 250;
  private opened: Opened | null = null;
  /** Set as soon as the database is open: a start that throws after it still closes it. */
  private db: Store | null = null;
  private subjects: SubjectHasher | null = null;
  private ctx: PartContext | null = null;
  /**
   * The index every decision reads: a rebuild after a gap in the change log is built beside it
   * and swapped in here (ExternalChangeWatch), so readers hold this part, not an AccessIndex.
   */
  private liveIndex = new AccessIndex();
  /** A commit's index refresh failed: rebuilt beside the live one, and never saved as a snapshot at stop. */
  private suspect = false;
  private onSuspect: (() => void) | null = null;
  private appliedSeq: () => number | undefined = () => undefined;

  get index(): AccessIndex {
    return this.liveIndex;
  }

  start(ctx: PartContext): void {
    this.ctx = ctx;
    const cfg = ctx.config();
    const log = ctx.logger.child({ part: 'store' });
    const { store, key, subjects, dbFile } = openSiteStore(cfg);
    this.db = store;
    this.subjects = subjects;
    const audit = new AuditLog(store.db);
    store.onCommit((change) => {
      if (change.doors) refreshDoors(store.db, this.index);
      if (change.people.size > 0) refreshPeople(store.db, this.index, change.people);
    });
    // The commit stands whatever a listener threw; an index that may have missed it is rebuilt.
    store.onListenerError((err) => {
      ctx.metrics.backgroundErrors.inc({ task: 'index-refresh' });
      ctx.logger.error({ err: errorMessage(err) }, 'index refresh after a commit failed; rebuilding the index beside the live one');
      this.suspect = true;
      this.onSuspect?.();
    });
    const changedResources = syncFromConfig(store, cfg);
    this.liveIndex = this.newIndex();
    const changeMark = startIndex(store.db, this.index, sitePaths(cfg).indexSnapshot, log).mark;
    this.opened = { store, audit, key, subjects, dbFile, changeMark };
    ctx.metrics.gauge('lintel_index_cards', 'Cards in the in-memory index', () => this.index.stats().cards);
    ctx.metrics.gauge('lintel_index_grants', 'Grants in the in-memory index', () => this.index.stats().grants);
    // Stored bookings outlive the config: a resource whose doors changed since the last run has
    // its booking grants re-derived now, ongoing ones included, before the platform link starts.
    if (changedResources.length > 0) rederiveFromConfig(store, cfg, changedResources, ctx.clock.now());
  }

  /** The live index and any rebuilt beside it (ExternalChangeWatch) are made alike. */
  newIndex(): AccessIndex {
    const subjects = this.subjects;
    if (!subjects || !this.ctx) throw new Error('the store part has not started');
    const accessLog = this.ctx.logger.child({ part: 'access' });
    return new AccessIndex({
      subjectOf: subjects.of,
      subjectKeyId: subjects.keyId,
      onSubjectCollision: (personIds) => accessLog.warn({ personIds }, 'these people share a member-token subject: their member tokens are refused'),
    });
  }

  swapIndex(fresh: AccessIndex): void {
    this.liveIndex = fresh;
  }

  /**
   * For the change watcher (background part): `rebuild` runs when a commit's refresh failed —
   * at once if that happened before it was wired — and `appliedSeq` says how far the index has
   * applied the change log, for the snapshot at stop.
   */
  watchedBy(rebuild: () => void, appliedSeq: () => number): void {
    this.onSuspect = rebuild;
    this.appliedSeq = appliedSeq;
    if (this.suspect) rebuild();
  }

  get site(): Opened {
    if (!this.opened) throw new Error('the store part has not started');
    return this.opened;
  }

  get store(): Store {
    return this.site.store;
  }

  /** False once closed, and before it opened. */
  isOpen(): boolean {
    return this.db?.db.open ?? false;
  }

  stop(): void {
    const opened = this.opened;
    const ctx = this.ctx;
    // An index that once missed a commit is not written down: the next start loads the tables.
    if (opened && ctx && !this.suspect) {
      const cfg = ctx.config();
      saveIndexAtStop(opened.store, this.liveIndex, this.appliedSeq(), sitePaths(cfg).indexSnapshot, ctx.clock.now(), ctx.logger.child({ part: 'store' }));
    }
    this.close();
  }

  /** Idempotent and synchronous: also the last resort of a process that is exiting. */
  close(): void {
    const store = this.db;
    if (!store?.db.open) return;
    try {
      store.close();
      this.ctx?.logger.info('store closed');
    } catch (err) {
      this.ctx?.logger.error({ err: errorMessage(err) }, 'store close failed');
    }
  }

  status(): StatusPart {
    return { index: this.index, dbOpen: this.isOpen() };
  }
}
