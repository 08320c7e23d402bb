import { userInfo } from 'node:os';
import { z } from 'zod';
import { lockdownStatus, switchLockdown } from '../store/site-admin.js';
import type { LockdownState } from '../store/site-repository.js';
import type { Store } from '../store/store.js';
import { EXIT, UsageError } from './exit-codes.js';
import { JSON_OPTION, configPath, usageLine, type CommandSpec, type Parsed } from './spec.js';
import { withStore } from './cli-store.js';

/*
 * `lintel lockdown on|off|status`: the site-wide lockdown in site_state, with who switched it
 * and when. The command writes the database file; a gateway running on it sees the change at
 * its next poll of the change log (within a second), as it sees a `cards import`.
 */

/** Who switched: printable, short; it lands in site_state and the status page. */
const operatorName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\p{L}\p{N} ._@:+-]+$/u, 'letters, digits, space and . _ @ : + - only');

/** The operator a switch is recorded for: --by, else the local user (`cli:alice`). */
export function operatorOf(command: CommandSpec, by: string | boolean | undefined, localUser: () => string = () => userInfo().username): string {
  if (typeof by !== 'string') return `cli:${localUser()}`;
  const parsed = operatorName.safeParse(by);
  if (!parsed.success) throw new UsageError(`--by: ${parsed.error.issues[0]!.message}\n${usageLine(command)}`);
  return parsed.data;
}

export function formatLockdown(s: LockdownState): string {
  const since = s.updatedAt === null ? '' : ` since ${new Date(s.updatedAt).toISOString()} (by ${s.updatedBy})`;
  return s.on ? `lockdown ON${since}: only lockdown-override groups open doors` : `lockdown off${since}`;
}

/** The text or JSON one switch prints. */
function report(p: Parsed, value: LockdownState & { changed?: boolean }): void {
  if (p.values.json) console.log(JSON.stringify(value, null, 2));
  else console.log(value.changed === false ? `unchanged: ${formatLockdown(value)}` : formatLockdown(value));
}

type StoreOpener = <T>(configFile: string, fn: (store: Store) => T) => T;

/** The three commands; `open` and `now` are injectable so that tests run them on a real file with a pinned clock. */
export function lockdownCommands(open: StoreOpener = withStore, now: () => number = Date.now): CommandSpec[] {
  const byOption = { by: { type: 'string', help: 'operator name recorded with the switch (default: cli:$USER)' } } as const;
  const switchCommand = (on: boolean): CommandSpec => {
    const command: CommandSpec = {
      name: `lockdown ${on ? 'on' : 'off'}`,
      args: '[--by NAME] [-c FILE] [--json]',
      summary: on ? 'Lock the site down: every door refuses all but lockdown-override groups.' : 'Lift the lockdown: doors follow their schedules and grants again.',
      details: 'Exit 0 also when the site already was in that state (the output says "unchanged"); 2 on a bad --by.',
      positionals: [0, 0],
      options: { ...byOption, ...JSON_OPTION },
      run: (p) => {
        const by = operatorOf(command, p.values.by);
        report(p, open(configPath(p.values.config), (store) => switchLockdown(store, on, now(), by)));
        return EXIT.ok;
      },
    };
    return command;
  };
  return [
    switchCommand(true),
    switchCommand(false),
    {
      name: 'lockdown status',
      args: '[-c FILE] [--json]',
      summary: 'Say whether the site is in lockdown, since when and by whom.',
      positionals: [0, 0],
      options: JSON_OPTION,
      run: (p) => {
        report(p, open(configPath(p.values.config), (store) => lockdownStatus(store)));
        return EXIT.ok;
      },
    },
  ];
}
