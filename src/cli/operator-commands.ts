import { hashPassword } from '../console/passwords.js';
import type { Role } from '../console/operator.js';
import {
  addOperator,
  DuplicateOperatorError,
  findOperator,
  listOperators,
  operatorNameSchema,
  removeOperator,
  roleSchema,
  setOperatorPassword,
  type OperatorSummary,
} from '../store/operators.js';
import type { Store } from '../store/store.js';
import { withStore } from './cli-store.js';
import { EXIT, UsageError } from './exit-codes.js';
import { readPassword } from './password-input.js';
import { checkedArg, cliActor, configPath, JSON_OPTION, printResult, stringFlag, type CommandSpec } from './spec.js';

/*
 * `lintel operator add|list|remove|passwd`: the accounts that sign in to the console at /login.
 * The password comes from --password-file or standard input (one line, never echoed) and is
 * hashed (async scrypt) before the database is opened for the write, so the write is short.
 */

const when = (ms: number) => new Date(ms).toISOString();

export function formatOperators(rows: OperatorSummary[]): string {
  if (rows.length === 0) return 'no operator accounts';
  return rows.map((o) => `${o.name.padEnd(24)} ${o.role.padEnd(8)} created ${when(o.createdAt)}  changed ${when(o.updatedAt)}`).join('\n');
}

type StoreOpener = <T>(configFile: string, fn: (store: Store) => T) => T;

const PASSWORD_FILE = { 'password-file': { type: 'string', help: 'read the password from the first line of FILE (else standard input, one line)' } } as const;

/** `open`, `now`, `actor` and `password` are injectable so that tests run the commands on a real file with a pinned clock. */
export function operatorCommands(
  open: StoreOpener = withStore,
  now: () => number = Date.now,
  actor: () => string = cliActor,
  password: (file: string | undefined) => Promise<string> = (file) => readPassword(file),
): CommandSpec[] {
  const add: CommandSpec = {
    name: 'operator add',
    args: 'NAME --role viewer|operator|admin [--password-file FILE] [-c FILE] [--json]',
    summary: 'Add a console operator account (signs in at /login).',
    details: 'The password is read from --password-file or standard input (one line, at least 12 characters, never shown). Exit 2 on a bad name, role or password, or a name already taken.',
    positionals: [1, 1],
    options: { role: { type: 'string', help: 'viewer, operator or admin (admin ⊃ operator ⊃ viewer)' }, ...PASSWORD_FILE, ...JSON_OPTION },
    run: async (p) => {
      const name = checkedArg(add, 'NAME', operatorNameSchema, p.positionals[0]);
      const role: Role = checkedArg(add, '--role', roleSchema, p.values.role);
      const config = configPath(p.values.config);
      // Asked before the password, so nobody types one for a name that cannot be added.
      if (open(config, (store) => findOperator(store, name)) !== undefined) throw new UsageError(new DuplicateOperatorError(name).message);
      const passwordHash = await hashPassword(await password(stringFlag(p, 'password-file')));
      const made = open(config, (store) => {
        try {
          return addOperator(store, { name, role, passwordHash }, now(), actor());
        } catch (err) {
          if (err instanceof DuplicateOperatorError) throw new UsageError(err.message);
          throw err;
        }
      });
      printResult(p, made, `added operator "${made.name}" (${made.role})`);
      return EXIT.ok;
    },
  };
  const passwd: CommandSpec = {
    name: 'operator passwd',
    args: 'NAME [--password-file FILE] [-c FILE]',
    summary: "Set an operator account's password.",
    details: "The password is read as for `operator add`. Exit 1 when there is no such account, 2 on a password under 12 characters. The account's sessions signed in with the old password end at their next request.",
    positionals: [1, 1],
    options: PASSWORD_FILE,
    run: async (p) => {
      const name = p.positionals[0]!;
      const config = configPath(p.values.config);
      if (open(config, (store) => findOperator(store, name)) === undefined) return noSuchOperator(name);
      const passwordHash = await hashPassword(await password(stringFlag(p, 'password-file')));
      if (!open(config, (store) => setOperatorPassword(store, name, passwordHash, now(), actor()))) return noSuchOperator(name);
      console.log(`password of operator "${name}" changed`);
      return EXIT.ok;
    },
  };
  return [
    add,
    {
      name: 'operator list',
      args: '[-c FILE] [--json]',
      summary: 'List the console operator accounts: name, role, created, changed (never a password or hash).',
      positionals: [0, 0],
      options: JSON_OPTION,
      run: (p) => {
        const rows = open(configPath(p.values.config), (store) => listOperators(store));
        printResult(p, rows, formatOperators(rows));
        return EXIT.ok;
      },
    },
    {
      name: 'operator remove',
      args: 'NAME [-c FILE]',
      summary: 'Remove a console operator account: it cannot sign in from now on.',
      details: 'Exit 1 when there is no such account.',
      positionals: [1, 1],
      run: (p) => {
        const name = p.positionals[0]!;
        if (!open(configPath(p.values.config), (store) => removeOperator(store, name, now(), actor()))) return noSuchOperator(name);
        console.log(`removed operator "${name}"`);
        return EXIT.ok;
      },
    },
    passwd,
  ];
}

function noSuchOperator(name: string): number {
  console.error(`no operator account named "${name}"`);
  return EXIT.failure;
}
