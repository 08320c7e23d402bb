import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { tokenKeyFile } from '../site-store.js';

/*
 * The files a site cannot be rebuilt without, besides its database: the member-token key (every
 * issued QR token and stored subject depends on it) and the files the config names. Each has a
 * role, so a restore puts it where the *current* config says that role lives, never at a path
 * read from the archive (an archive cannot write anywhere the config does not name).
 */

export const ROLES = ['token-key', 'http-token', 'mqtt-password', 'mqtt-tls-ca', 'mqtt-tls-cert', 'mqtt-tls-key', 'upstream-token'] as const;
export type Role = (typeof ROLES)[number];

export interface SiteFile {
  role: Role;
  path: string;
}

export const databaseFile = (cfg: Config): string => join(cfg.dataDir, 'lintel.db');

/** The role → path list for a config; unset optional files are left out. */
export function siteFiles(cfg: Config): SiteFile[] {
  const all: Array<[Role, string | undefined]> = [
    ['token-key', tokenKeyFile(cfg)],
    ['http-token', cfg.http.authTokenFile],
    ['mqtt-password', cfg.mqtt.passwordFile],
    ['mqtt-tls-ca', cfg.mqtt.tls?.caFile],
    ['mqtt-tls-cert', cfg.mqtt.tls?.certFile],
    ['mqtt-tls-key', cfg.mqtt.tls?.keyFile],
    ['upstream-token', cfg.upstream?.tokenFile],
  ];
  return all.filter((e): e is [Role, string] => e[1] !== undefined).map(([role, path]) => ({ role, path }));
}
