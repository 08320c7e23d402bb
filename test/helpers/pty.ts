import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PtyPair {
  /** The end the gateway opens as its serial device. */
  gatewaySide: string;
  /** The end a test writes badge lines into, as the reader hardware would. */
  deviceSide: string;
  stop(): Promise<void>;
}

/** A real pseudo-terminal pair from socat, raw and without echo, like a USB-serial reader. */
export async function startPtyPair(dir: string): Promise<PtyPair> {
  const gatewaySide = join(dir, 'ttyGateway');
  const deviceSide = join(dir, 'ttyDevice');
  const child: ChildProcess = spawn(
    'socat',
    [`pty,raw,echo=0,link=${gatewaySide}`, `pty,raw,echo=0,link=${deviceSide}`],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => child.once('error', reject));
  const end = Date.now() + 5000;
  while (!(existsSync(gatewaySide) && existsSync(deviceSide))) {
    if (Date.now() > end) throw new Error('socat did not create the pty pair');
    await Promise.race([new Promise((r) => setTimeout(r, 20)), failed]);
  }
  return {
    gatewaySide,
    deviceSide,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
