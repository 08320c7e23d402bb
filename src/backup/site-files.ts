import type { Config } from '../config/schema.js';
import { sitePaths } from '../config/site-paths.js';

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

/** The role → path list for a config; unset optional files are left out. */
export function siteFiles(cfg: Config): SiteFile[] {
  const { tokenKey, named } = sitePaths(cfg);
  const all: Array<[Role, string | undefined]> = [
    ['token-key', tokenKey],
    ['http-token', named.httpToken],
    ['mqtt-password', named.mqttPassword],
    ['mqtt-tls-ca', named.mqttTlsCa],
    ['mqtt-tls-cert', named.mqttTlsCert],
    ['mqtt-tls-key', named.mqttTlsKey],
    ['upstream-token', named.upstreamToken],
  ];
  return all.filter((e): e is [Role, string] => e[1] !== undefined).map(([role, path]) => ({ role, path }));
}
