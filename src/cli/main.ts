import { sitePaths } from '../config/site-paths.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { preflight } from '../config/preflight.js';
import { accessReportOf, formatAccessReport } from '../config/access-report.js';
import { databaseSchema } from '../store/db.js';
import { migrations } from '../store/migrations.js';
import { countOperatorsInFile } from '../store/operators.js';
import { formatPeople, formatPerson, listPeople, showPerson } from '../store/people-report.js';
import { Store } from '../store/store.js';
import { createMemberQrIssuer } from '../qr/issuer.js';
import { loadOrCreateTokenKey } from '../qr/token-key.js';
import { tokenKeyFile } from '../site-store.js';
import { systemClock } from '../util/clock.js';
import { VERSION } from '../version.js';
import { runAuditCommand } from '../cli-audit.js';
import { EXIT, exitCodeFor, UsageError } from './exit-codes.js';
import { runPeopleCommand, runQrRevoke } from './people-commands.js';
import { runGateway } from './run-gateway.js';
import { printResult, commandHelp, configPath, findCommand, JSON_OPTION, parseCommand, usageLine, type CommandSpec, type Parsed } from './spec.js';
import { backupCommands } from './backup-commands.js';
import { lockdownCommands } from './lockdown-commands.js';
import { tokenCommands } from './token-commands.js';
import { operatorCommands } from './operator-commands.js';
import { provisionCommands } from './provision-commands.js';
import { companyCommands } from './company-commands.js';
import { bookingCommands } from './booking-commands.js';
import { groupCommands } from './group-commands.js';
import { runCardsImport } from './cards-import.js';
import { withStore as withCliStore } from './cli-store.js';

/** Opens the configured database for one CLI command (cli-store.ts), the config found as every command finds it. */
function withStore<T>(configFile: string | boolean | undefined, fn: (store: Store, cfg: Config) => T): T {
  return withCliStore(configPath(configFile), fn);
}


/**
 * `lintel check-config`: the schema, every check `run` applies before it starts, and the data
 * it would open (a database a newer build wrote is refused here as by run: exit 3).
 */
function checkConfig(p: Parsed): number {
  const file = p.positionals[0] ?? configPath(p.values.config);
  let cfg: Config;
  let checks: ReturnType<typeof preflight>;
  try {
    cfg = loadConfigFile(file);
    checks = preflight(cfg, { operatorAccounts: countOperatorsInFile(sitePaths(cfg).database) });
    if (checks.errors.length > 0) throw new ConfigError(file, checks.errors);
  } catch (err) {
    if (p.values.json && err instanceof ConfigError) {
      console.log(JSON.stringify({ file, valid: false, errors: err.problems }, null, 2));
      return EXIT.usage;
    }
    throw err;
  }
  const schema = databaseSchema(sitePaths(cfg).database);
  const warnings = checks.faults.map((f) => `${f.field}: ${f.problem} (run starts with the ${f.link} link faulted until the file is fixed)`);
  const code = warnings.length === 0 ? EXIT.ok : EXIT.failure;
  const summary = { site: cfg.site.id, doors: cfg.doors.length, readers: cfg.readers.length, resources: cfg.resources.length };
  // What each access group opens at this instant, in the site's zone (site.timeZone, or the host's).
  const access = accessReportOf(cfg, Date.now());
  if (p.values.json) {
    console.log(JSON.stringify({ file, valid: true, warnings, ...summary, database: schema && { ...schema, file: sitePaths(cfg).database }, access }, null, 2));
    return code;
  }
  for (const w of warnings) console.error(`${file}: warning: ${w}`);
  console.log(`${file}: ${code === EXIT.ok ? 'OK' : 'valid, with warnings'} — site ${summary.site}, ${summary.doors} doors, ${summary.readers} readers, ${summary.resources} resources`);
  if (schema?.state === 'pending') console.log(`database at schema ${schema.version}: the next start copies it beside itself, then migrates it to ${schema.latest} (README "Upgrading")`);
  for (const line of formatAccessReport(access)) console.log(line);
  return code;
}


export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    args: '[-c FILE]',
    summary: 'Run the gateway with a config file (as the systemd unit does).',
    details: 'Stops cleanly on SIGTERM/SIGINT; SIGHUP reloads the config. Exit 1 if it cannot start, 3 on a database a newer build wrote.',
    positionals: [0, 0],
    run: async (p) => {
      await runGateway(configPath(p.values.config));
      return -1; // keeps running
    },
  },
  {
    name: 'demo',
    args: '',
    summary: 'Run on the embedded defaults: broker, simulated door and booking platform, sample cards, stdin reader.',
    positionals: [0, 0],
    run: async () => {
      // Loaded when run: a one-shot command does not carry the demo's (and gateway's) module graph.
      await (await import('../demo/demo.js')).runDemo();
      return -1;
    },
  },
  {
    name: 'check-config',
    args: '[FILE] [-c FILE] [--json]',
    summary: 'Validate a config file with every check run applies, and the database it names.',
    details:
      "Then prints, in the site's time zone, each access group's doors and whether each is open now (docs/access-model.md).\nExit 0 sound, 1 valid with warnings (a link would start faulted), 2 invalid, 3 the database is from a newer build.",
    positionals: [0, 1],
    options: JSON_OPTION,
    run: checkConfig,
  },
  {
    name: 'cards import',
    args: 'FILE.csv [-c FILE]',
    summary: 'Import the card list (email,name,card,format[,state][,doors][,groups][,valid_from][,valid_to]): all rows or nothing.',
    positionals: [1, 1],
    run: async (p) => {
      // Streamed, in a worker thread with a bounded heap (cards-import.ts).
      const s = await runCardsImport(configPath(p.values.config), p.positionals[0]!);
      console.log(`imported ${s.cards} cards for ${s.people} people, ${s.staffGrants} staff grants${s.memberships === undefined ? '' : `, ${s.memberships} group memberships`}`);
      return EXIT.ok;
    },
  },
  {
    name: 'people list',
    args: '[-c FILE] [--json]',
    summary: 'List people: state, cards (active/all) and grants.',
    positionals: [0, 0],
    options: JSON_OPTION,
    run: (p) => {
      const rows = withStore(p.values.config, (store) => listPeople(store));
      printResult(p, rows, formatPeople(rows));
      return EXIT.ok;
    },
  },
  {
    name: 'people show',
    args: 'EMAIL [-c FILE] [--json]',
    summary: "Show one person: state, cards (masked), door access and member-token revocation.",
    positionals: [1, 1],
    options: JSON_OPTION,
    run: (p) => {
      const person = withStore(p.values.config, (store) => showPerson(store, p.positionals[0]!));
      printResult(p, person, formatPerson(person));
      return EXIT.ok;
    },
  },
  ...(['suspend', 'reinstate'] as const).map(
    (sub): CommandSpec => ({
      name: `people ${sub}`,
      args: 'EMAIL [-c FILE]',
      summary:
        sub === 'suspend'
          ? "Refuse the person's cards and member tokens (revokes the tokens)."
          : "Let a suspended person's cards in again (member tokens must be issued anew).",
      positionals: [1, 1],
      run: (p) => {
        console.log(runPeopleCommand([sub, p.positionals[0]!], (fn) => withStore(p.values.config, fn), () => Date.now()));
        return EXIT.ok;
      },
    }),
  ),
  {
    name: 'qr issue',
    args: 'EMAIL [-c FILE]',
    summary: 'Issue a short-lived member QR token for a person (token on stdout, expiry on stderr).',
    positionals: [1, 1],
    run: (p) => {
      const t = withStore(p.values.config, (store, cfg) => {
        const key = loadOrCreateTokenKey(tokenKeyFile(cfg));
        return createMemberQrIssuer({ db: store.db, key, ttlSeconds: cfg.qr.ttlSeconds, clock: systemClock })(p.positionals[0]!);
      });
      console.log(t.token);
      console.error(`valid until ${new Date(t.expiresAt).toISOString()}`);
      return EXIT.ok;
    },
  },
  {
    name: 'qr revoke',
    args: 'EMAIL [-c FILE]',
    summary: 'Void every member token issued to the person so far.',
    positionals: [1, 1],
    run: (p) => {
      console.log(runQrRevoke(p.positionals, (fn) => withStore(p.values.config, fn), () => Date.now()));
      return EXIT.ok;
    },
  },
  {
    name: 'audit export',
    args: 'FILE.jsonl.gz [-c FILE]',
    summary: "Write the whole audit log (gzip'd JSON Lines) to a new file; deletes nothing.",
    positionals: [1, 1],
    run: async (p) => {
      console.log(await runAuditCommand(configPath(p.values.config), 'export', p.positionals));
      return EXIT.ok;
    },
  },
  {
    name: 'audit prune',
    args: '[-c FILE]',
    summary: 'Export audit rows older than audit.retentionDays to the archive, then delete them.',
    positionals: [0, 0],
    run: async (p) => {
      console.log(await runAuditCommand(configPath(p.values.config), 'prune', []));
      return EXIT.ok;
    },
  },
  ...backupCommands,
  ...lockdownCommands(),
  ...tokenCommands(),
  ...operatorCommands(),
  ...provisionCommands(),
  ...companyCommands(),
  ...bookingCommands(),
  ...groupCommands(),
];

function globalHelp(): string {
  const rows = COMMANDS.map((cmd) => {
    const head = `  ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''}`;
    return head.length < 32 ? `${head.padEnd(32)}${cmd.summary}` : `${head}\n${' '.repeat(32)}${cmd.summary}`;
  });
  return `lintel ${VERSION} — edge access gateway for door controllers

Usage: lintel <command> [options]      lintel <command> --help for the command's own usage

Commands:
${rows.join('\n')}

Options:
  -c, --config FILE             config file (default: $LINTEL_CONFIG or /etc/lintel/lintel.yaml)
  -h, --help                    show this help
  -v, --version                 print the version (with --json: version, Node.js, schema)

Exit codes: 0 ok, 1 runtime failure (check-config: warnings), 2 usage or config error,
3 refused to protect data, 4 unsupported Node.js (README "CLI reference / exit codes").
`;
}

/** Runs one command line; resolves with the exit code, or -1 for a command that keeps running. */
export async function main(argv: string[]): Promise<number> {
  const found = findCommand(COMMANDS, argv);
  if (found === null) {
    const flags = new Set(argv);
    const unknown = argv.find((a) => !a.startsWith('-'));
    if (unknown !== undefined && unknown !== 'help') throw new UsageError(`unknown command "${unknown}"; see lintel --help`);
    if (flags.has('-v') || flags.has('--version')) {
      console.log(flags.has('--json') ? JSON.stringify({ lintel: VERSION, node: process.version, schemaVersion: migrations.at(-1)!.version }) : VERSION);
      return EXIT.ok;
    }
    if (flags.has('-h') || flags.has('--help') || unknown === 'help') {
      console.log(globalHelp());
      return EXIT.ok;
    }
    console.error(globalHelp());
    return EXIT.usage;
  }
  if ('group' in found) {
    const subs = COMMANDS.filter((cmd) => cmd.name.startsWith(`${found.group} `));
    const usage = subs.map((cmd) => `  ${usageLine(cmd)}`).join('\n');
    if (found.rest.includes('-h') || found.rest.includes('--help')) {
      console.log(`lintel ${found.group}: ${subs.map((s) => s.name.split(' ')[1]).join(', ')}\n${usage}\n\nlintel ${found.group} <sub> --help for each one's options.`);
      return EXIT.ok;
    }
    const sub = found.rest.find((a) => !a.startsWith('-'));
    throw new UsageError(`${sub === undefined ? 'missing' : `unknown`} ${found.group} command${sub === undefined ? '' : ` "${sub}"`}\n${usage}`);
  }
  const parsed = parseCommand(found.command, found.rest);
  if (parsed.values.help) {
    console.log(commandHelp(found.command));
    return EXIT.ok;
  }
  return await found.command.run(parsed);
}

/** The entry src/cli.ts calls once Node's version is known to be good. */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err: unknown) => {
      const code = exitCodeFor(err);
      console.error(code === EXIT.failure ? `lintel: ${(err as Error).message}` : (err as Error).message);
      process.exitCode = code;
    },
  );
}
