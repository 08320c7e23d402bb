import { siteLocations } from '../config/locations.js';
import type { Config } from '../config/schema.js';
import type { ApiLive } from '../api/v1/thread-messages.js';
import { ApiWriter } from '../api/v1/writer.js';
import type { Writes } from '../api/v1/write-ops.js';
import type { FilesPart } from './files-part.js';
import type { ConfigChange, Part, PartContext, PartRoutes } from './part.js';
import type { StorePart } from './store-part.js';
import { IndexCatchUp } from '../store/applied-waiters.js';

/**
 * The provisioning API (/api/v1), served whole by a thread of its own (api/v1/writer.ts): the
 * HTTP part hands it each request's bytes (http/v1-forward.ts) and writes its answer back, so no
 * routing, token lookup, validation or JSON of the API runs on the thread that decides badges.
 * Writes reach the index through the change watcher, told at each commit, so a person PUT opens
 * doors within milliseconds and never holds a badge read. Listed before `http`, which forwards to it.
 */
export class ApiPart implements Part {
  readonly name = 'api';
  /**
   * The thread closes its connections between two batches (ApiWriter.stop): milliseconds.
   * Past the bound it is cut; what it held is rolled back by SQLite. Small: all the parts'
   * bounds together stay under run-gateway's hard stop.
   */
  readonly stopBoundMs = 100;
  private writer: ApiWriter | null = null;
  private endpoint: PartRoutes['v1Thread'] | null = null;

  constructor(
    private readonly files: FilesPart,
    private readonly store: StorePart,
  ) {}

  /**
   * The change watcher, told at each of the thread's commits: the API answers a write only when
   * doors know it, bounded (store/applied-waiters.ts). Wired by BackgroundPart.
   */
  private readonly catchUp = new IndexCatchUp();

  onCommitted(listener: () => void, waitApplied: (seq: number, ms: number) => Promise<boolean>): void {
    this.catchUp.onCommitted(listener, waitApplied);
  }

  /** What the API reads of the running configuration, as plain data for the thread. */
  private liveOf(config: Config): ApiLive {
    return {
      knownGroups: Object.keys(config.accessGroups),
      // As the upstream path builds it (policyFrom): resources and grace; a reload's grace applies to the next PUT.
      bookingConfig: { resources: config.resources, access: { graceBeforeMinutes: config.access.graceBeforeMinutes, graceAfterMinutes: config.access.graceAfterMinutes } },
      // Whether each is connected (location-gate.ts), without the links' credentials, which the API never needs.
      locations: siteLocations(config).map((l) => ({ ...l, upstream: undefined })),
      qrTtlSeconds: config.qr.ttlSeconds,
      operatorToken: this.files.authToken,
      logLevel: config.log.level,
    };
  }

  start(ctx: PartContext): void {
    const { dbFile, key } = this.store.site;
    const logger = ctx.logger.child({ part: 'api' });
    const writer = new ApiWriter({
      dbFile,
      key,
      logger,
      live: this.liveOf(ctx.config()),
      afterCommit: (seq) => this.catchUp.reached(seq),
      // Not waited for: a bulk's people reach the index in slices over seconds, beside the badges.
      nudge: () => this.catchUp.nudge(),
      onCrash: () => ctx.metrics.backgroundErrors.inc({ task: 'api-thread' }),
    });
    // Not started here: the first request or console write starts the thread, as the writer thread
    // was. A site that never provisions through the API carries no API isolate (its modules are
    // ~12 MB of RSS: 306 MB after ready at 1M cards with it, against the 300 MB target); the
    // first request waits for them once.
    this.writer = writer;
    // The gateway's clock at each request's arrival: what the API would have read on this thread.
    this.endpoint = { answer: (req) => writer.answer(req, ctx.clock.now()) };
  }

  /** A reload committed: the thread serves the next request with its groups, locations, grace and QR lifetime. */
  reloaded(change: ConfigChange): void {
    this.writer?.setLive(this.liveOf(change.config));
  }

  /** The thread's write ops, for the console's operator actions (parts/console-part.ts): one write path for both. */
  get writes(): Writes {
    if (!this.writer) throw new Error('the api part has not started');
    return this.writer.writes;
  }

  routes(): PartRoutes {
    return this.endpoint ? { v1Thread: this.endpoint } : {};
  }

  async stop(): Promise<void> {
    this.endpoint = null;
    await this.writer?.stop(this.stopBoundMs - 20);
  }
}
