import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface SocatPty {
  /** The end the gateway opens as its serial device. */
  gatewaySide: string;
  /** The end a test writes into, as the reader hardware would. */
  deviceSide: string;
  /** Hangs up both ends, as unplugging a USB-serial adapter does. */
  stop(): Promise<void>;
}

/**
 * A socat pty pair that is ready to use. socat creates the link names before it has finished
 * setting the ptys' termios; opening in that window lets socat's `raw` settings land after
 * ours (VMIN=0), and the serialport binding then spins on zero-byte reads and never sees the
 * hang-up. `-d -d` makes socat say when it enters its transfer loop, i.e. when setup is over.
 */
export function startSocatPty(dir: string, name = 'tty'): Promise<SocatPty> {
  const gatewaySide = join(dir, `${name}Gateway`);
  const deviceSide = join(dir, `${name}Device`);
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${gatewaySide}`, `pty,raw,echo=0,link=${deviceSide}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('starting data transfer loop')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume(); // keep draining so socat never blocks on a full pipe
        resolve({ gatewaySide, deviceSide, stop });
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`socat exited (${code}) before it was ready: ${log.slice(-500)}`)));
  });
}
