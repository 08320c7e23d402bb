import { AsyncLocalStorage } from 'node:async_hooks';
import { Hono } from 'hono';
import { createMemberQrIssuer } from '../../qr/issuer.js';
import type { V1Reply, V1Request } from '../../http/v1-forward.js';
import { V1_PATH } from '../../http/v1-forward.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { createV1App } from './app.js';
import { BulkRunner } from './bulk-runner.js';
import type { ApiLive, HttpDone } from './thread-messages.js';
import { tokenAuth } from './token-auth.js';
import { writesVia, type WriteOp } from './write-ops.js';

/*
 * /api/v1 as the API thread serves it: the same createV1App the tests drive with app.request(),
 * mounted as http/app.ts mounted it on the main thread, over this thread's read connection,
 * with writes that go to this thread's batcher (writer-thread.ts). What a request wrote is
 * tracked per request (AsyncLocalStorage follows it through every await), so its answer can
 * say which change-log mark the main thread's index must reach before the answer goes out.
 */

/** One request's bookkeeping: the gateway clock's time at its arrival, and what it committed. */
interface RequestScope {
  now: number;
  seq?: number;
  nudge?: boolean;
}

export interface ThreadAppDeps {
  /** This thread's read connection (never waits for a lock, as the main thread's did). */
  reads: Store;
  dbFile: string;
  key: Buffer;
  logger: Logger;
  /** Runs a write op on the batcher; resolves with its result and the change-log mark after its commit. */
  write: (op: WriteOp, args: unknown[]) => Promise<{ value: unknown; seq: number }>;
}

const NO_BODY_STATUS = new Set([204, 304]);

export class ThreadApp {
  private readonly scope = new AsyncLocalStorage<RequestScope>();
  private readonly bulks = new BulkRunner();
  /** The gateway's clock as of the request being served (the main thread's ctx.clock), else this thread's. */
  private readonly clock: Clock = { ...systemClock, now: () => this.scope.getStore()?.now ?? Date.now() };
  private app: Hono;

  constructor(
    private readonly deps: ThreadAppDeps,
    private live: ApiLive,
  ) {
    this.app = this.build();
  }

  /** A reload: the next request sees the new groups, locations, grace and QR lifetime. */
  setLive(live: ApiLive): void {
    this.live = live;
    this.app = this.build();
  }

  private build(): Hono {
    const { reads, dbFile, key, logger } = this.deps;
    const clock = this.clock;
    const writes = writesVia((op, args) => {
      // Read before the await: the scope of the request that asked, whichever turn the commit lands in.
      const scope = this.scope.getStore();
      return this.deps.write(op, args).then(({ value, seq }) => {
        if (scope) scope.seq = Math.max(scope.seq ?? 0, seq);
        return value;
      });
    });
    const v1 = createV1App({
      store: reads,
      clock,
      logger,
      writes,
      auth: tokenAuth({ store: reads, operatorToken: this.live.operatorToken, clock }),
      knownGroups: () => new Set(this.live.knownGroups),
      issueQr: (email) => createMemberQrIssuer({ db: reads.db, key, ttlSeconds: this.live.qrTtlSeconds, clock })(email),
      bookingConfig: () => this.live.bookingConfig,
      locations: () => this.live.locations,
      bulk: async (body, ndjson, actor) => {
        const scope = this.scope.getStore();
        const reply = await this.bulks.run({ dbFile, key, body, ndjson, actor, now: clock.now(), knownGroups: [...this.live.knownGroups] });
        // Not waited for: a bulk's people reach the index in slices over seconds, beside the badges.
        if (reply.ok && scope) scope.nudge = true;
        return reply;
      },
    });
    const app = new Hono().route(V1_PATH, v1);
    // What the main app answered for a path no route of v1's takes (http/app.ts notFound).
    app.notFound((c) => c.json({ error: 'not found' }, 404));
    return app;
  }

  /** Serves one request; never rejects (the v1 app's error handler answers every failure). */
  async serve(id: number, req: V1Request, now: number): Promise<HttpDone> {
    const scope: RequestScope = { now };
    const response = await this.scope.run(scope, () => this.app.fetch(toRequest(req)));
    const body = req.method === 'HEAD' || NO_BODY_STATUS.has(response.status) ? null : await response.arrayBuffer();
    const reply: V1Reply = { status: response.status, headers: [...response.headers], body };
    return { kind: 'http', id, reply, ...(scope.seq === undefined ? {} : { seq: scope.seq }), ...(scope.nudge ? { nudge: true } : {}) };
  }
}

function toRequest(req: V1Request): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const host = headers.get('host') ?? 'localhost';
  return new Request(`${req.scheme}://${host}${req.url}`, { method: req.method, headers, ...(req.body === null ? {} : { body: req.body }) });
}
