import { z } from 'zod';
import type { Scope } from '../api/v1/actor.js';
import { createToken, DuplicateTokenNameError, listTokens, revokeToken, type TokenSummary } from '../store/api-tokens.js';
import type { Store } from '../store/store.js';
import { EXIT, UsageError } from './exit-codes.js';
import { checkedArg, printResult, cliActor, JSON_OPTION, configPath, type CommandSpec } from './spec.js';
import { withStore } from './cli-store.js';

/*
 * `lintel token create|list|revoke`: the provisioning API's tokens. The secret is printed once,
 * at creation; the database keeps only its sha256, so a lost token is revoked and made anew.
 */

const scopeInput = z.enum(['read', 'write', 'admin']);
/** Printable, short: it names the token in the change audit ("api:<name>"). */
const nameInput = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._@:-]+$/, 'letters, digits and . _ @ : - only');


const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export function formatTokens(rows: TokenSummary[]): string {
  if (rows.length === 0) return 'no API tokens';
  return rows
    .map((t) => `${t.name.padEnd(20)} ${t.scope.padEnd(6)} created ${when(t.createdAt)}  last used ${when(t.lastUsedAt)}${t.revokedAt === null ? '' : `  REVOKED ${when(t.revokedAt)}`}`)
    .join('\n');
}

type StoreOpener = <T>(configFile: string, fn: (store: Store) => T) => T;


/** `open`, `now` and `actor` are injectable so that tests run the commands on a real file with a pinned clock. */
export function tokenCommands(open: StoreOpener = withStore, now: () => number = Date.now, actor: () => string = cliActor): CommandSpec[] {
  const create: CommandSpec = {
    name: 'token create',
    args: '--scope read|write|admin [--name NAME] [-c FILE] [--json]',
    summary: 'Create a provisioning API token; it is printed once, only its hash is kept.',
    details: 'Exit 2 on a bad or missing --scope, a bad --name, or a name already taken.',
    positionals: [0, 0],
    options: {
      scope: { type: 'string', help: 'read, write or admin (admin ⊃ write ⊃ read)' },
      name: { type: 'string', help: 'unique name the change audit shows (default: token-<n>)' },
      ...JSON_OPTION,
    },
    run: (p) => {
      const scope: Scope = checkedArg(create, '--scope', scopeInput, p.values.scope);
      const name = p.values.name === undefined ? undefined : checkedArg(create, '--name', nameInput, p.values.name);
      const made = open(configPath(p.values.config), (store) => {
        try {
          return createToken(store, { scope, ...(name === undefined ? {} : { name }) }, now(), actor());
        } catch (err) {
          // A name taken is the operator's input being wrong: exit 2 like any usage error.
          if (err instanceof DuplicateTokenNameError) throw new UsageError(err.message);
          throw err;
        }
      });
      printResult(p, made, `${made.token}\ntoken "${made.name}" (${made.scope}): this is the only time it is shown; store it now`);
      return EXIT.ok;
    },
  };
  return [
    create,
    {
      name: 'token list',
      args: '[-c FILE] [--json]',
      summary: 'List the API tokens: name, scope, created, last used, revoked (never the secret).',
      positionals: [0, 0],
      options: JSON_OPTION,
      run: (p) => {
        const rows = open(configPath(p.values.config), (store) => listTokens(store));
        printResult(p, rows, formatTokens(rows));
        return EXIT.ok;
      },
    },
    {
      name: 'token revoke',
      args: 'NAME [-c FILE]',
      summary: 'Revoke an API token: requests with it are refused from now on.',
      details: 'Exit 1 when no live token has that name.',
      positionals: [1, 1],
      run: (p) => {
        const name = p.positionals[0]!;
        const done = open(configPath(p.values.config), (store) => revokeToken(store, name, now(), actor()));
        if (!done) {
          console.error(`no live API token named "${name}"`);
          return EXIT.failure;
        }
        console.log(`revoked API token "${name}"`);
        return EXIT.ok;
      },
    },
  ];
}
