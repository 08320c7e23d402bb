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
  /** http.tls read: the PEM certificate (chain) and key the gateway serves HTTPS with; undefined without http.tls. */
  tls: { cert: Buffer; key: Buffer } | undefined;
}

/** What the start checks know of the data: how many console operator accounts exist (store/operators.ts countOperatorsInFile). */
export interface PreflightData {
  operatorAccounts: number;
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
  (cfg.locations ?? []).forEach((l, i) => {
    if (l.upstream && l.upstream.token === undefined) add(`locations.${i}.upstream.tokenFile`, l.upstream.tokenFile, 'secret', 'upstream');
  });
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

/**
 * The LAN-bind rule: a non-loopback http.host needs TLS (http.tls, served by the gateway, or a
 * TLS proxy in front: http.behindTlsProxy) AND authentication (the token, or at least one
 * operator account), so that no password, session cookie or token crosses the LAN in clear and
 * nothing on the LAN is open to anyone. Without `data` no account is assumed (fail closed).
 */
export function preflight(cfg: Config, data: PreflightData = { operatorAccounts: 0 }): Preflight {
  const errors: string[] = [];
  const token = resolveSecret(cfg.http.authToken, cfg.http.authTokenFile);
  if (token && !token.ok) errors.push(`http.authTokenFile: ${token.problem}`);
  const authToken = token?.ok ? token.text : undefined;
  if (token?.ok && authToken === '') errors.push('http.authTokenFile: the file is empty');
  if (!isLoopback(cfg.http.host)) {
    if (!token && data.operatorAccounts === 0) {
      errors.push(`http.host: ${cfg.http.host} is not loopback: set http.authToken or http.authTokenFile, or add an operator account (lintel operator add) (fail closed)`);
    }
    if (cfg.http.tls === undefined && !cfg.http.behindTlsProxy) {
      errors.push(`http.host: ${cfg.http.host} is not loopback: serve HTTPS (http.tls: { certFile, keyFile }) or put a TLS reverse proxy in front (http.behindTlsProxy: true)`);
    }
  }
  const tls = readTls(cfg, errors);
  return { errors, faults: readLinkFiles(linkFiles(cfg)).faults, authToken: authToken || undefined, tls };
}

/** The certificate and key, read once at start; a file that cannot be used stops the start (the page would not be reachable). */
function readTls(cfg: Config, errors: string[]): Preflight['tls'] {
  const t = cfg.http.tls;
  if (t === undefined) return undefined;
  const cert = readConfigFile(t.certFile, 'public');
  const key = readConfigFile(t.keyFile, 'secret');
  if (!cert.ok) errors.push(`http.tls.certFile: ${cert.problem}`);
  if (!key.ok) errors.push(`http.tls.keyFile: ${key.problem}`);
  return cert.ok && key.ok ? { cert: cert.data, key: key.data } : undefined;
}
