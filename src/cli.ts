#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { Gateway } from './gateway.js';
import { runDemo } from './demo/demo.js';
import { CardImportError, importCards } from './store/card-import.js';
import { openDatabase } from './store/db.js';
import { syncFromConfig } from './store/doors.js';
import { Store } from './store/store.js';
import { createMemberQrIssuer, QrIssueError } from './qr/issuer.js';
import { loadOrCreateTokenKey } from './qr/token-key.js';
import { systemClock } from './util/clock.js';
import { VERSION } from './version.js';
import { AuditUsageError, runAuditCommand } from './cli-audit.js';

const HELP = `lintel ${VERSION} — edge access gateway for door controllers

Usage: lintel <command> [options]

Commands:
  run [-c FILE]                 run the gateway with a config file
  demo                          run on the embedded default: broker, simulated door,
                                simulated booking platform, sample cards, stdin reader
  check-config FILE             validate a config file without starting
  cards import FILE.csv [-c FILE]
                                import the card list (email,name,card,format[,state][,doors][,valid_from][,valid_to]);
                                all rows or nothing
  qr issue EMAIL [-c FILE]      issue a short-lived member QR token for a person
  audit export FILE.jsonl.gz [-c FILE]
                                write the whole audit log (gzip'd JSON Lines); deletes nothing
  audit prune [-c FILE]         export rows older than audit.retentionDays to the archive, then delete them

Options:
  -c, --config FILE             config file (default: $LINTEL_CONFIG or /etc/lintel/lintel.yaml)
  -h, --help                    show this help
  -v, --version                 print the version
`;

function configPath(value: string | undefined): string {
  return value ?? process.env.LINTEL_CONFIG ?? '/etc/lintel/lintel.yaml';
}

/** Opens the configured database for one CLI command, doors kept in step with the config. */
function withStore<T>(configFile: string | undefined, fn: (store: Store, cfg: Config) => T): T {
  const cfg = loadConfigFile(configPath(configFile));
  const store = new Store(openDatabase(join(cfg.dataDir, 'lintel.db')));
  try {
    syncFromConfig(store, cfg);
    return fn(store, cfg);
  } finally {
    store.close();
  }
}

async function runGateway(file: string): Promise<void> {
  const gateway = new Gateway({ config: loadConfigFile(file) });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.logger.info({ signal }, 'stopping');
    await gateway.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    try {
      void gateway.reload(loadConfigFile(file));
    } catch (err) {
      gateway.logger.error({ err: (err as Error).message }, 'reload rejected; keeping the running configuration');
    }
  });
  try {
    await gateway.start();
  } catch (err) {
    gateway.logger.fatal({ err: (err as Error).message }, 'start failed');
    await gateway.stop().catch(() => undefined);
    process.exit(1);
  }
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
      await runDemo();
      return -1;
    case 'check-config': {
      const file = rest[0] ?? configPath(values.config);
      const cfg = loadConfigFile(file);
      console.log(`${file}: OK — site ${cfg.site.id}, ${cfg.doors.length} doors, ${cfg.readers.length} readers, ${cfg.resources.length} resources`);
      return 0;
    }
    case 'cards': {
      if (rest[0] !== 'import' || rest[1] === undefined) throw new UsageError('usage: lintel cards import FILE.csv [-c CONFIG]');
      const file = rest[1];
      const summary = withStore(values.config, (store) => importCards(store, readFileSync(file, 'utf8'), Date.now()));
      console.log(`imported ${summary.cards} cards for ${summary.people} people, ${summary.staffGrants} staff grants`);
      return 0;
    }
    case 'qr': {
      if (rest[0] !== 'issue' || rest[1] === undefined) throw new UsageError('usage: lintel qr issue EMAIL [-c CONFIG]');
      const email = rest[1];
      const t = withStore(values.config, (store, cfg) => {
        const key = loadOrCreateTokenKey(cfg.qr.keyFile ?? join(cfg.dataDir, 'qr-token.key'));
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
    if (err instanceof ConfigError || err instanceof CardImportError || err instanceof QrIssueError || err instanceof UsageError || err instanceof AuditUsageError) {
      console.error(err.message);
      process.exitCode = 2;
    } else {
      console.error(`lintel: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  },
);
