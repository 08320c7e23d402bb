import { hostname, userInfo } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { UsageError } from './exit-codes.js';

/*
 * The command table's shape and the parsing every command shares: each command names its own
 * options and positionals, so `lintel X --help` prints X's usage and a stray option or argument
 * is a usage error (exit 2) naming X's usage, never the global help or a stack trace.
 */

type ParseArgsOptionDescriptor = NonNullable<ParseArgsConfig['options']>[string];

export interface Parsed {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

export interface CommandSpec {
  /** One or two words: "run", "people show". */
  name: string;
  /** After "lintel NAME": "EMAIL [-c FILE] [--json]". */
  args: string;
  summary: string;
  /** Further lines for `--help`: what it does, what it refuses. */
  details?: string;
  /** Positional arguments after the command words: [min, max]. */
  positionals: [number, number];
  options?: Record<string, ParseArgsOptionDescriptor & { help: string }>;
  run(p: Parsed): Promise<number> | number;
}

/** -c FILE, else $LINTEL_CONFIG, else the packaged path. */
export function configPath(value: string | boolean | undefined): string {
  return (typeof value === 'string' ? value : undefined) ?? process.env.LINTEL_CONFIG ?? '/etc/lintel/lintel.yaml';
}

export const CONFIG_HELP = 'config file (default: $LINTEL_CONFIG or /etc/lintel/lintel.yaml)';

const COMMON: Record<string, ParseArgsOptionDescriptor & { help: string }> = {
  config: { type: 'string', short: 'c', help: CONFIG_HELP },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const JSON_OPTION = { json: { type: 'boolean', help: 'print JSON instead of text' } } as const satisfies CommandSpec['options'];

export function usageLine(c: CommandSpec): string {
  return `usage: lintel ${c.name}${c.args ? ` ${c.args}` : ''}`;
}

export function commandHelp(c: CommandSpec): string {
  const options = { ...c.options, ...COMMON };
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? (name === 'config' ? ' FILE' : ' VALUE') : ''}`;
    return `  ${flag.padEnd(22)}${o.help}`;
  });
  return [`${usageLine(c)}`, '', c.summary, ...(c.details ? ['', c.details] : []), '', 'Options:', ...rows, ''].join('\n');
}

/** Parses the arguments after the command words with the command's own options. */
export function parseCommand(c: CommandSpec, args: string[]): Parsed {
  const options = Object.fromEntries(Object.entries({ ...c.options, ...COMMON }).map(([k, { help: _help, ...o }]) => [k, o]));
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    // node:util's messages are good ("Unknown option '--frob'"); the usage says what is known.
    throw new UsageError(`${(err as Error).message}\n${usageLine(c)}`);
  }
  if (parsed.values.help) return parsed;
  const [min, max] = c.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`missing argument\n${usageLine(c)}`);
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"\n${usageLine(c)}`);
  return parsed;
}

/**
 * Finds the command the argument list names: the first one or two words that are not options
 * (a `-c FILE` may come first). Returns the command and the arguments left for it to parse.
 */
export function findCommand(commands: readonly CommandSpec[], argv: string[]): { command: CommandSpec; rest: string[] } | { group: string; rest: string[] } | null {
  const words: number[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config') i++;
    else if (!a.startsWith('-')) words.push(i);
  }
  const [w0, w1] = words.map((i) => argv[i]!);
  const without = (n: number) => argv.filter((_, i) => !words.slice(0, n).includes(i));
  const two = w1 !== undefined ? commands.find((c) => c.name === `${w0} ${w1}`) : undefined;
  if (two) return { command: two, rest: without(2) };
  const one = commands.find((c) => c.name === w0);
  if (one) return { command: one, rest: without(1) };
  if (w0 !== undefined && commands.some((c) => c.name.startsWith(`${w0} `))) return { group: w0, rest: without(1) };
  return null;
}

/** Who a CLI change is audited as (change_audit.actor): the operator's login on this host. */
export const cliActor = (): string => `cli:${userInfo().username}@${hostname()}`;

/** A string option's value, or undefined when it was not given. */
export const stringFlag = (p: Parsed, flag: string): string | undefined => (typeof p.values[flag] === 'string' ? (p.values[flag] as string) : undefined);

/** `--json`: the value as JSON; otherwise the text line(s). */
export const printResult = (p: Parsed, json: unknown, text: string): void => console.log(p.values.json ? JSON.stringify(json, null, 2) : text);

/** One argument or option checked by a schema: its value, or a usage error (exit 2) naming `label` and the command's usage. */
export function checkedArg<S extends z.ZodType>(command: CommandSpec, label: string, schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new UsageError(`${label}: ${r.error.issues[0]!.message}\n${usageLine(command)}`);
  return r.data;
}
