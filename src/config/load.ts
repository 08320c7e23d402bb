import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid configuration\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** `doors[2].pulseMs` from zod's `['doors', 2, 'pulseMs']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * One line per problem, labelled with its path. An unknown key gets a line of its own,
 * `http.authtoken: unknown key, did you mean "authToken"?`, from the keys its object knows
 * (`known`: formatted object path → its keys, collected while parsing).
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], known: ReadonlyMap<string, readonly string[]> = new Map()): string[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [`${formatPath(issue.path)}: ${issue.message}`];
    const candidates = known.get(formatPath(issue.path)) ?? [];
    return issue.keys.map((key) => {
      const near = closest(key, candidates);
      return `${formatPath([...issue.path, key])}: unknown key${near ? `, did you mean "${near}"?` : ''}`;
    });
  });
}

/** The known key nearest to a misspelt one, if it is near enough to be what was meant. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d <= Math.max(2, Math.floor(c.length / 3)) && (!best || d < best.d)) best = { key: c, d };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Validates an already-parsed document; relative paths resolve against `baseDir`. */
export function parseConfig(doc: unknown, file = '<config>', baseDir = process.cwd()): Config {
  const known = new Map<string, string[]>();
  const result = configSchema.safeParse(doc ?? {}, {
    // Zod's issue for unknown keys names them but not the keys the object does know: note
    // those while parsing, for the "did you mean" (returning undefined keeps zod's message).
    error: (iss) => {
      const shape = (iss.inst as { def?: { shape?: Record<string, unknown> } } | undefined)?.def?.shape;
      if (iss.code === 'unrecognized_keys' && shape) known.set(formatPath(iss.path ?? []), Object.keys(shape));
      return undefined;
    },
  });
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues, known));
  return resolvePaths(result.data, baseDir);
}

export function loadConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const msg = err instanceof YAMLParseError ? err.message.split('\n')[0] ?? err.message : String(err);
    throw new ConfigError(file, [`YAML: ${msg}`]);
  }
  return parseConfig(doc, file, dirname(resolve(file)));
}

function resolvePaths(cfg: Config, baseDir: string): Config {
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...cfg,
    dataDir: abs(cfg.dataDir)!,
    http: { ...cfg.http, authTokenFile: abs(cfg.http.authTokenFile) },
    mqtt: {
      ...cfg.mqtt,
      passwordFile: abs(cfg.mqtt.passwordFile),
      tls: cfg.mqtt.tls && {
        ...cfg.mqtt.tls,
        caFile: abs(cfg.mqtt.tls.caFile),
        certFile: abs(cfg.mqtt.tls.certFile),
        keyFile: abs(cfg.mqtt.tls.keyFile),
      },
    },
    upstream: cfg.upstream && { ...cfg.upstream, tokenFile: abs(cfg.upstream.tokenFile) },
    locations: cfg.locations?.map((l) => ({ ...l, upstream: l.upstream && { ...l.upstream, tokenFile: abs(l.upstream.tokenFile) } })),
    qr: { ...cfg.qr, keyFile: abs(cfg.qr.keyFile) },
  };
}
