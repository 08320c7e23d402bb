#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config/load.js';
import { preflight } from './config/preflight.js';
import { CardImportError } from './store/card-import.js';
import { runCardsImport } from './cli/cards-import.js';
import { withStore } from './cli/cli-store.js';
import { createMemberQrIssuer, QrIssueError } from './qr/issuer.js';
import { loadOrCreateTokenKey } from './qr/token-key.js';
import { tokenKeyFile } from './site-store.js';
import { systemClock } from './util/clock.js';
import { runGuarded } from './util/guarded.js';
import { VERSION } from './version.js';
import { MemberCommandUsageError, PEOPLE_HELP, runPeopleCommand, runQrRevoke } from './cli/people-commands.js';
import { UnknownMemberError } from './store/member-admin.js';
import { AuditUsageError, runAuditCommand } from './cli-audit.js';

const HELP = `lintel ${VERSION} — edge access gateway for door controllers

Usage: lintel <command> [options]

Commands:
  run [-c FILE]                 run the gateway with a config file
  demo                          run on the embedded default: broker, simulated door,
                                simulated booking platform, sample cards, stdin reader
  check-config FILE             validate a config file with every check run applies;
                                exit 0 sound, 1 warnings (a link would start faulted), 2 invalid
  cards import FILE.csv [-c FILE]
                                import the card list (email,name,card,format[,state][,doors][,valid_from][,valid_to]);
                                all rows or nothing
  qr issue EMAIL [-c FILE]      issue a short-lived member QR token for a person
${PEOPLE_HELP}
  audit export FILE.jsonl.gz [-c FILE]
                                write the whole audit log (gzip'd JSON Lines); deletes nothing
  audit prune [-c FILE]         export rows older than audit.retentionDays to the archive, then delete them

Options:
  -c, --config FILE             config file (default: $LINTEL_CONFIG or /etc/lintel/lintel.yaml)
  -h, --help                    show this help
  -v, --version                 print the version
`;

export function configPath(value: string | undefined): string {
  return value ?? process.env.LINTEL_CONFIG ?? '/etc/lintel/lintel.yaml';
}

/** Longer than every part's stop bound together, shorter than systemd's TimeoutStopSec (15 s). */
const HARD_STOP_MS = 12_000;

/**
 * `lintel run`. Exit codes: 0 after a clean stop by signal, 1 when start fails or stop cannot
 * finish, 2 for an invalid config (main's handler). The exit code is set before anything is
 * awaited: a stop that waits on something nothing keeps alive would otherwise let Node exit 0.
 */
async function runGateway(file: string): Promise<void> {
  // Loaded here, not at the top: a one-shot command (cards import above all, whose peak memory
  // counts) does not carry the gateway's module graph (~25 MB).
  const { Gateway } = await import('./gateway.js');
  const gateway = new Gateway({ config: loadConfigFile(file) });
  const guard = { logger: gateway.logger, countFailure: (task: string) => gateway.metrics.backgroundErrors.inc({ task }) };
  // Whatever ends the process, SQLite is closed (synchronous, idempotent).
  process.on('exit', () => gateway.closeStore());
  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    process.exitCode = code;
    gateway.logger.info({ reason }, 'stopping');
    // The parts' stops are bounded; this bounds the rest. Referenced, so it also keeps Node alive.
    const deadline = setTimeout(() => {
      gateway.logger.error({ ms: HARD_STOP_MS }, 'stop did not finish in time; exiting');
      process.exit(1);
    }, HARD_STOP_MS);
    await gateway.stop().catch(() => (process.exitCode = 1));
    clearTimeout(deadline);
    process.exit(process.exitCode);
  };
  // Signal handlers are guarded: nothing a reload or a stop throws may end the process unlogged.
  process.on('SIGTERM', () => void runGuarded('sigterm', () => stop('SIGTERM', 0), guard));
  process.on('SIGINT', () => void runGuarded('sigint', () => stop('SIGINT', 0), guard));
  process.on('SIGHUP', () => void runGuarded('sighup', () => gateway.reloadFile(file), guard));
  try {
    await gateway.start();
  } catch (err) {
    gateway.logger.fatal({ err: (err as Error).message }, 'start failed');
    await stop('start failed', 1);
  }
}

/** `lintel check-config`: the schema, then every check `run` applies before it starts. */
function checkConfig(file: string): number {
  const cfg = loadConfigFile(file);
  const { errors, faults } = preflight(cfg);
  if (errors.length > 0) throw new ConfigError(file, errors);
  for (const f of faults) console.error(`${file}: warning: ${f.field}: ${f.problem} (run starts with the ${f.link} link faulted until the file is fixed)`);
  console.log(`${file}: ${faults.length === 0 ? 'OK' : 'valid, with warnings'} — site ${cfg.site.id}, ${cfg.doors.length} doors, ${cfg.readers.length} readers, ${cfg.resources.length} resources`);
  return faults.length === 0 ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) {
    console.log(VERSION);
    return 0;
  }
  if (values.help || command === undefined || command === 'help') {
    console.log(HELP);
    return command === undefined && !values.help ? 2 : 0;
  }

  switch (command) {
    case 'run':
      await runGateway(configPath(values.config));
      return -1; // keeps running
    case 'demo':
      await (await import('./demo/demo.js')).runDemo();
      return -1;
    case 'check-config':
      return checkConfig(rest[0] ?? configPath(values.config));
    case 'cards': {
      if (rest[0] !== 'import' || rest[1] === undefined) throw new UsageError('usage: lintel cards import FILE.csv [-c CONFIG]');
      const file = rest[1];
      const summary = await runCardsImport(configPath(values.config), file);
      console.log(`imported ${summary.cards} cards for ${summary.people} people, ${summary.staffGrants} staff grants`);
      return 0;
    }
    case 'people':
      console.log(runPeopleCommand(rest, (fn) => withStore(configPath(values.config), fn), () => Date.now()));
      return 0;
    case 'qr': {
      if (rest[0] === 'revoke') {
        console.log(runQrRevoke(rest.slice(1), (fn) => withStore(configPath(values.config), fn), () => Date.now()));
        return 0;
      }
      if (rest[0] !== 'issue' || rest[1] === undefined) throw new UsageError('usage: lintel qr issue EMAIL [-c CONFIG]');
      const email = rest[1];
      const t = withStore(configPath(values.config), (store, cfg) => {
        const key = loadOrCreateTokenKey(tokenKeyFile(cfg));
        return createMemberQrIssuer({ db: store.db, key, ttlSeconds: cfg.qr.ttlSeconds, clock: systemClock })(email);
      });
      console.log(t.token);
      console.error(`valid until ${new Date(t.expiresAt).toISOString()}`);
      return 0;
    }
    case 'audit':
      console.log(await runAuditCommand(configPath(values.config), rest[0], rest.slice(1)));
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"; see lintel --help`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (
      err instanceof ConfigError ||
      err instanceof CardImportError ||
      err instanceof QrIssueError ||
      err instanceof UsageError ||
      err instanceof UnknownMemberError ||
      err instanceof MemberCommandUsageError ||
      err instanceof AuditUsageError
    ) {
      console.error(err.message);
      process.exitCode = 2;
    } else {
      console.error(`lintel: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  },
);
