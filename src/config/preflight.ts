import { isLoopback } from './loopback.js';
import type { Config } from './schema.js';
import { readConfigFile, resolveSecret, type FileKind, type FileRead } from './secret-files.js';

/**
 * The checks `lintel run` applies to a valid config before starting, shared with `lintel
 * check-config` so that a file that passes the check also starts. Two kinds of finding:
 * - errors stop the start (exit non-zero): the operator API would otherwise run with less
 *   protection than configured, or not be reachable by the operator at all;
 * - link faults do not: a link (MQTT, the booking platform) whose file cannot be used is shown
 *   as a fault and retried, and doors keep deciding from the local cache meanwhile.
 */

export type Link = 'mqtt' | 'upstream';

export interface LinkFile {
  /** Dotted config path, as in every message: `mqtt.passwordFile`. */
  field: string;
  path: string;
  kind: FileKind;
  link: Link;
}

export interface LinkFault {
  field: string;
  link: Link;
  problem: string;
}

export interface Preflight {
  errors: string[];
  faults: LinkFault[];
  /** The operator token when one is configured and usable. */
  authToken: string | undefined;
}

/** The files each link needs; a link starts only when all of its files can be used. */
export function linkFiles(cfg: Config): LinkFile[] {
  const out: LinkFile[] = [];
  const add = (field: string, path: string | undefined, kind: FileKind, link: Link) => {
    if (path !== undefined) out.push({ field, path, kind, link });
  };
  if (cfg.mqtt.password === undefined) add('mqtt.passwordFile', cfg.mqtt.passwordFile, 'secret', 'mqtt');
  add('mqtt.tls.caFile', cfg.mqtt.tls?.caFile, 'public', 'mqtt');
  add('mqtt.tls.certFile', cfg.mqtt.tls?.certFile, 'public', 'mqtt');
  add('mqtt.tls.keyFile', cfg.mqtt.tls?.keyFile, 'secret', 'mqtt');
  if (cfg.upstream && cfg.upstream.token === undefined) add('upstream.tokenFile', cfg.upstream.tokenFile, 'secret', 'upstream');
  return out;
}

/** Reads each link file once: what could be read, by path, and the faults. */
export function readLinkFiles(files: readonly LinkFile[]): { reads: Map<string, FileRead & { ok: true }>; faults: LinkFault[] } {
  const reads = new Map<string, FileRead & { ok: true }>();
  const faults: LinkFault[] = [];
  for (const f of files) {
    const r = readConfigFile(f.path, f.kind);
    if (r.ok) reads.set(f.path, r);
    else faults.push({ field: f.field, link: f.link, problem: r.problem });
  }
  return { reads, faults };
}

export function preflight(cfg: Config): Preflight {
  const errors: string[] = [];
  const token = resolveSecret(cfg.http.authToken, cfg.http.authTokenFile);
  if (token && !token.ok) errors.push(`http.authTokenFile: ${token.problem}`);
  const authToken = token?.ok ? token.text : undefined;
  if (token?.ok && authToken === '') errors.push('http.authTokenFile: the file is empty');
  if (!token && !isLoopback(cfg.http.host)) {
    errors.push(`http.host: ${cfg.http.host} is not loopback: set http.authToken or http.authTokenFile (fail closed)`);
  }
  return { errors, faults: readLinkFiles(linkFiles(cfg)).faults, authToken: authToken || undefined };
}
