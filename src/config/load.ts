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

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
}

/** Validates an already-parsed document; relative paths resolve against `baseDir`. */
export function parseConfig(doc: unknown, file = '<config>', baseDir = process.cwd()): Config {
  const result = configSchema.safeParse(doc ?? {});
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
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
    qr: { ...cfg.qr, keyFile: abs(cfg.qr.keyFile) },
  };
}

/** Reads a secret given inline or as a file (trailing newline stripped). */
export function readSecret(inline: string | undefined, file: string | undefined): string | undefined {
  if (inline !== undefined) return inline;
  if (file === undefined) return undefined;
  return readFileSync(file, 'utf8').trim();
}
