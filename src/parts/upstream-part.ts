import type { StatusPart } from '../status-builder.js';
import type { UpstreamLink } from '../upstream/upstream-link.js';
import { UpstreamThread } from '../upstream/upstream-thread-host.js';
import type { FilesPart } from './files-part.js';
import type { ConfigChange, Part, PartContext, PartRoutes } from './part.js';

/**
 * The booking platform, when `upstream` is configured: optional, never blocks start-up, and
 * runs in its own thread (upstream-thread.ts) so that callbacks, fetches and applied lists never
 * hold the badge path. Without a usable token file the link is disabled until a retry reads one.
 */
export class UpstreamPart implements Part {
  readonly name = 'upstream';
  readonly stopBoundMs = 2000;
  private thread: UpstreamLink | null = null;
  private committed: Array<() => void> = [];

  constructor(private readonly files: FilesPart) {}

  async start(ctx: PartContext): Promise<void> {
    const cfg = ctx.config();
    const up = cfg.upstream;
    if (!up) return;
    const files = this.files.linkFiles;
    this.thread = new UpstreamThread({
      config: cfg,
      token: up.token ?? (files.ready('upstream') && up.tokenFile ? files.text(up.tokenFile) : ''),
      clock: ctx.clock,
      logger: ctx.logger.child({ part: 'upstream' }),
      countFailure: (task) => ctx.metrics.backgroundErrors.inc({ task }),
      onCommitted: () => {
        for (const fn of this.committed) fn();
      },
    });
    this.files.onRetried((healed) => {
      const tokenFile = ctx.config().upstream?.tokenFile;
      if (healed.includes('upstream') && tokenFile) this.thread?.setToken(files.text(tokenFile));
    });
    ctx.metrics.watchUpstream(this.thread);
    await this.thread.start();
  }

  /** The link, or null when no platform is configured. */
  get link(): UpstreamLink | null {
    return this.thread;
  }

  /** `fn` runs each time the thread committed to SQLite (the change watcher applies it at once). */
  onCommitted(fn: () => void): void {
    this.committed.push(fn);
  }

  async stop(): Promise<void> {
    this.committed = [];
    await this.thread?.stop();
  }

  routes(): PartRoutes {
    return this.thread ? { webhook: this.thread.webhookApp() } : {};
  }

  status(): StatusPart {
    return { upstream: this.thread };
  }

  reloaded(change: ConfigChange): void {
    if (change.config.log.level !== change.previous.log.level) this.thread?.setLogLevel(change.config.log.level);
    if (change.upstreamToken !== null) this.thread?.setToken(change.upstreamToken);
  }
}
