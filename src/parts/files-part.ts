import type { Link } from '../config/preflight.js';
import { preflight } from '../config/preflight.js';
import { sitePaths } from '../config/site-paths.js';
import { LinkFiles } from '../link-files.js';
import { countOperatorsInFile } from '../store/operators.js';
import type { StatusPart } from '../status-builder.js';
import { SYNC_STOP_BOUND_MS, type ConfigChange, type Part, type PartContext } from './part.js';

/**
 * First of all: the checks `lintel check-config` makes (an error stops the start), and the files
 * the links read (password, token, TLS). A file a link needs faults that link, not the start:
 * the link waits, and retry() — on the background timer — reads the faulted files again and
 * tells the links that wait on them.
 */
export class FilesPart implements Part {
  readonly name = 'files';
  readonly stopBoundMs = SYNC_STOP_BOUND_MS;
  private files: LinkFiles | null = null;
  private ctx: PartContext | null = null;
  private readonly retried: Array<(healed: readonly Link[]) => Promise<void> | void> = [];
  /** The operator token, when one is configured and usable. */
  authToken: string | undefined;
  /** http.tls, read: the HTTP part serves HTTPS with it. */
  tls: { cert: Buffer; key: Buffer } | undefined;

  start(ctx: PartContext): void {
    this.ctx = ctx;
    const cfg = ctx.config();
    const checks = preflight(cfg, { operatorAccounts: countOperatorsInFile(sitePaths(cfg).database) });
    if (checks.errors.length > 0) throw new Error(checks.errors.join('; '));
    this.authToken = checks.authToken;
    this.tls = checks.tls;
    const files = (this.files = new LinkFiles(sitePaths(cfg).linkFiles, ctx.metrics.registry));
    for (const f of files.list()) ctx.logger.error({ field: f.field, link: f.link, problem: f.problem }, 'link file unusable; the link waits and the file is read again');
  }

  /** Nothing to close: the files were read into memory. */
  stop(): void {
    this.retried.splice(0);
  }

  /** The link files, read; for the parts that start after this one. */
  get linkFiles(): LinkFiles {
    if (!this.files) throw new Error('the files part has not started');
    return this.files;
  }

  /**
   * `fn` runs after each retry with the links that became usable. Not only those: a reload reads
   * every file again and may have found one fixed already, so a waiting link checks ready() itself.
   */
  onRetried(fn: (healed: readonly Link[]) => Promise<void> | void): void {
    this.retried.push(fn);
  }

  /** The retry timer's run (background-tasks.ts). */
  async retry(): Promise<void> {
    const files = this.files;
    if (!files || this.ctx?.stopping()) return;
    const healed = files.refresh();
    for (const link of healed) this.ctx?.logger.info({ link }, 'link files readable again');
    for (const fn of this.retried) await fn(healed);
  }

  status(): StatusPart {
    return { linkFileFaults: this.files?.list() ?? [] };
  }

  /** A token file may have moved: read what is configured now. */
  reloaded(change: ConfigChange): void {
    this.files?.replace(sitePaths(change.config).linkFiles);
  }
}
