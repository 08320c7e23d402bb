import { createV1App } from '../api/v1/app.js';
import { BulkRunner } from '../api/v1/bulk-runner.js';
import { tokenAuth } from '../api/v1/token-auth.js';
import { createMemberQrIssuer } from '../qr/issuer.js';
import { policyOfConfig } from '../upstream/booking-apply.js';
import type { FilesPart } from './files-part.js';
import type { Part, PartContext, PartRoutes } from './part.js';
import type { StorePart } from './store-part.js';

/**
 * The provisioning API (/api/v1). It writes through the gateway's own store like any other
 * writer: the commit's change-log rows refresh the index, so a person PUT opens doors at once.
 * Listed before `http`, which mounts its routes; nothing to stop (the server is http's).
 */
export class ApiPart implements Part {
  readonly name = 'api';
  readonly stopBoundMs = 50;
  private app: PartRoutes['v1'] | null = null;

  constructor(
    private readonly files: FilesPart,
    private readonly store: StorePart,
  ) {}

  /** Called after a bulk committed on its own connection: the change watcher applies it now, not at its next tick. */
  private committed: () => void = () => undefined;
  private readonly bulks = new BulkRunner();

  onCommitted(listener: () => void): void {
    this.committed = listener;
  }

  start(ctx: PartContext): void {
    const store = this.store.store;
    const { dbFile, key } = this.store.site;
    const knownGroups = () => new Set(Object.keys(ctx.config().accessGroups));
    this.app = createV1App({
      store,
      clock: ctx.clock,
      logger: ctx.logger.child({ part: 'api' }),
      auth: tokenAuth({ store, operatorToken: this.files.authToken, clock: ctx.clock }),
      // Read at each request: a reload that adds a group makes it usable at once.
      knownGroups,
      // The TTL as configured now: a reload that shortens it applies to the next token.
      issueQr: (email) => createMemberQrIssuer({ db: store.db, key, ttlSeconds: ctx.config().qr.ttlSeconds, clock: ctx.clock })(email),
      // As the upstream path builds it (policyFrom), from the config of the moment: a reload's grace applies to the next PUT.
      bookingPolicy: () => policyOfConfig(store, ctx.config()),
      bulk: async (body, ndjson, actor) => {
        const reply = await this.bulks.run({ dbFile, key, body, ndjson, actor, now: ctx.clock.now(), knownGroups: [...knownGroups()] });
        if (reply.ok) this.committed();
        return reply;
      },
    });
  }

  routes(): PartRoutes {
    return this.app ? { v1: this.app } : {};
  }

  stop(): void {
    this.app = null;
  }
}
