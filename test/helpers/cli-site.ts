import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { CLI } from './gateway-process.js';
import { tempDir } from './tmp.js';

/**
 * A one-door site on disk for the built CLI's tests: its config names a data dir inside a fresh
 * temporary directory and a broker nobody listens on, so no command can reach a real site.
 */
export interface CliSite {
  dir: string;
  config: string;
  cleanup: () => void;
  /** Runs `lintel ARGS -c CONFIG` as an operator would. */
  lintel: (...args: string[]) => SpawnSyncReturns<string>;
}

export function cliSite(siteId = 'ux', extraYaml = ''): CliSite {
  const { dir, cleanup } = tempDir();
  const config = join(dir, 'lintel.yaml');
  writeFileSync(config, `site: { id: ${siteId} }\ndataDir: ${join(dir, 'data')}\nhttp: { port: 0 }\nmqtt: { url: "mqtt://127.0.0.1:1" }\ndoors: [{ id: front }]\n${extraYaml}`);
  const lintel = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args, '-c', config], { encoding: 'utf8', timeout: 30_000 });
  return { dir, config, cleanup, lintel };
}

/** One cliSite for a describe block: made before its tests, removed after them. */
export function useCliSite(siteId?: string, extraYaml?: string): CliSite {
  const site = {} as CliSite;
  beforeAll(() => void Object.assign(site, cliSite(siteId, extraYaml)));
  afterAll(() => site.cleanup());
  return site;
}
