import { spawn, type ChildProcess } from 'node:child_process';
import { parseConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';

/**
 * The platform simulator in a process of its own (bench/sim-process.ts), as the reconcile benches
 * run it: it stands for another machine, so its CPU is not the bench's. Resolves with the process
 * and the base URL it printed once listening.
 */
export async function spawnPlatformSim(resources: number, appointments: number, token: string): Promise<{ platform: ChildProcess; baseUrl: string }> {
  const platform = spawn(process.execPath, [new URL('./sim-process.js', import.meta.url).pathname, String(resources), String(appointments), token], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baseUrl = await new Promise<string>((resolve) => platform.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { platform, baseUrl };
}

/**
 * The reconcile benches' site: 50 doors, `resources` resources spread over them, the platform at
 * `baseUrl`. Nothing calls back (the appointments exist before the sweep) and the link's own
 * timer never sweeps during a run: the benches' sweeps are the work.
 */
export function reconcileBenchSite(dataDir: string, resources: number, baseUrl: string, token: string): Config {
  return parseConfig({
    site: { id: 'bench' },
    dataDir,
    doors: Array.from({ length: 50 }, (_, i) => ({ id: `door-${i}` })),
    resources: Array.from({ length: resources }, (_, i) => ({ id: `R-${i}`, doors: [`door-${i % 50}`] })),
    upstream: { baseUrl, callbackUrl: 'http://127.0.0.1:9/webhooks/offision', token, requestTimeoutMs: 10_000, reconcileIntervalSec: 86_400 },
  });
}
