import { ConfigError } from '../config/load.js';
import { CardImportError } from '../store/card-import.js';
import { QrIssueError } from '../qr/issuer.js';
import { UnknownMemberError } from '../store/member-admin.js';
import { SchemaTooNewError } from '../store/upgrade.js';
import { AuditUsageError } from '../cli-audit.js';
import { MemberCommandUsageError } from './people-commands.js';

/**
 * The CLI's exit codes (README "CLI reference / exit codes"). Scripts and systemd act on them:
 * 2 and 3 are never fixed by trying again, so the unit does not restart on them
 * (RestartPreventExitStatus), while 1 may be (a broker or disk that comes back).
 */
export const EXIT = {
  ok: 0,
  /** Something failed at run time (I/O, start failed); `check-config`: valid, with warnings. */
  failure: 1,
  /** The command line, the config file or an input file is wrong. */
  usage: 2,
  /** Refused to protect data: a database from a newer build, a restore onto live or existing data. */
  refused: 3,
  /** This Node.js is too old (src/node-version.ts). */
  node: 4,
} as const;

/** A malformed command line: the message carries the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command would put data at risk and did nothing (restore over a running gateway, …). */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof SchemaTooNewError || err instanceof RefusedError) return EXIT.refused;
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof CardImportError ||
    err instanceof QrIssueError ||
    err instanceof UnknownMemberError ||
    err instanceof MemberCommandUsageError ||
    err instanceof AuditUsageError
  ) {
    return EXIT.usage;
  }
  return EXIT.failure;
}
