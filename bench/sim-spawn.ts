import { spawn, type ChildProcess } from 'node:child_process';

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
