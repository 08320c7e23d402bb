import { createV1App } from '../api/v1/app.js';
import { siteLocations } from '../config/locations.js';
import { BulkRunner } from '../api/v1/bulk-runner.js';
import { ApiWriter } from '../api/v1/writer.js';
import type { Writes } from '../api/v1/write-ops.js';
import { tokenAuth } from '../api/v1/token-auth.js';
import { createMemberQrIssuer } from '../qr/issuer.js';
import type { FilesPart } from './files-part.js';
import type { Part, PartContext, PartRoutes } from './part.js';
import type { StorePart } from './store-part.js';

/**
 * The provisioning API (/api/v1). Its writes go to a thread of their own (api/v1/writer.ts) and
 * reach the index through the change watcher, told at each commit, so a person PUT opens doors
 * within milliseconds and never holds a badge read. Listed before `http`, which mounts its routes.
 */
/** The longest a single write's answer waits for the index (the watcher applies in slices beside the badges). */
const INDEX_WAIT_MS = 2_000;

export class ApiPart implements Part {
  readonly name = 'api';
  /**
   * The writer thread closes its connection between two batches (ApiWriter.stop): milliseconds.
   * Past the bound it is cut; what it held is rolled back by SQLite. Small: all the parts'
   * bounds together stay under run-gateway's hard stop.
   */
  readonly stopBoundMs = 100;
  private app: PartRoutes['v1'] | null = null;
  private writer: ApiWriter | null = null;

  constructor(
    private readonly files: FilesPart,
    private readonly store: StorePart,
  ) {}

  /** The change watcher's (BackgroundPart): apply the log now, and wait until it has applied up to a mark. */
  private committed: () => void = () => undefined;
  private waitApplied: ((seq: number, ms: number) => Promise<boolean>) | null = null;
  private readonly bulks = new BulkRunner();

  onCommitted(listener: () => void, waitApplied: (seq: number, ms: number) => Promise<boolean>): void {
    this.committed = listener;
    this.waitApplied = waitApplied;
  }

  /**
   * Resolves once the index has applied the change log up to `seq`, the writer thread's mark
   * right after the commit (the same mark the change watcher keeps, read the same way): the
   * API answers a write only when doors know it. Bounded: past INDEX_WAIT_MS the answer goes
   * anyway (the write is durable; the watcher catches up, sliced, beside the badges).
   */
  private async indexed(seq: number): Promise<void> {
    this.committed();
    await this.waitApplied?.(seq, INDEX_WAIT_MS);
  }

  start(ctx: PartContext): void {
    const store = this.store.store;
    const { dbFile, key } = this.store.site;
    const knownGroups = () => new Set(Object.keys(ctx.config().accessGroups));
    const logger = ctx.logger.child({ part: 'api' });
    this.writer = new ApiWriter({ dbFile, key, logger, afterCommit: (seq) => this.indexed(seq) });
    this.app = createV1App({
      store,
      clock: ctx.clock,
      logger,
      writes: this.writer.writes,
      auth: tokenAuth({ store, operatorToken: this.files.authToken, clock: ctx.clock }),
      // Read at each request: a reload that adds a group makes it usable at once.
      knownGroups,
      // The TTL as configured now: a reload that shortens it applies to the next token.
      issueQr: (email) => createMemberQrIssuer({ db: store.db, key, ttlSeconds: ctx.config().qr.ttlSeconds, clock: ctx.clock })(email),
      // As the upstream path builds it (policyFrom), from the config of the moment: a reload's grace applies to the next PUT.
      bookingConfig: () => ctx.config(),
      locations: () => siteLocations(ctx.config()),
      bulk: async (body, ndjson, actor) => {
        const reply = await this.bulks.run({ dbFile, key, body, ndjson, actor, now: ctx.clock.now(), knownGroups: [...knownGroups()] });
        // Not waited for: a bulk's people reach the index in slices over seconds, beside the badges.
        if (reply.ok) this.committed();
        return reply;
      },
    });
  }

  /** The writer thread's ops, for the console's operator actions (parts/console-part.ts): one write path for both. */
  get writes(): Writes {
    if (!this.writer) throw new Error('the api part has not started');
    return this.writer.writes;
  }

  routes(): PartRoutes {
    return this.app ? { v1: this.app } : {};
  }

  async stop(): Promise<void> {
    this.app = null;
    await this.writer?.stop(this.stopBoundMs - 20);
  }
}
