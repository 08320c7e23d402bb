import { execFile } from 'node:child_process';
import type { Clock, Timer } from './clock.js';
import type { Logger } from './log.js';

/**
 * sd_notify without a native module: Node has no unix datagram sockets, so we use the
 * `systemd-notify` tool (the unit sets NotifyAccess=all for it). READY=1 is sent only after the
 * gateway's dependencies are up; the watchdog is fed at half of WatchdogSec.
 * Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
 */
export interface SystemdNotifier {
  ready(status: string): void;
  stopping(): void;
  startWatchdog(clock: Clock, healthy: () => boolean): void;
  stopWatchdog(): void;
}

type Send = (args: string[]) => void;

export function createSystemdNotifier(logger: Logger, env: NodeJS.ProcessEnv = process.env, send?: Send): SystemdNotifier {
  const active = Boolean(env.NOTIFY_SOCKET);
  const run: Send =
    send ??
    ((args) =>
      execFile('systemd-notify', [`--pid=${process.pid}`, ...args], (err) => {
        if (err) logger.warn({ err: err.message }, 'systemd-notify failed');
      }));
  let timer: Timer | null = null;
  const watchdogUsec = Number(env.WATCHDOG_USEC ?? 0);
  return {
    ready(status) {
      if (active) run(['--ready', `--status=${status}`]);
    },
    stopping() {
      if (active) run(['STOPPING=1']);
    },
    startWatchdog(clock, healthy) {
      if (!active || !(watchdogUsec > 0)) return;
      const everyMs = Math.max(500, Math.floor(watchdogUsec / 1000 / 2));
      timer = clock.setInterval(() => {
        // A wedged gateway must be restarted, so only a healthy event loop feeds the dog.
        if (healthy()) run(['WATCHDOG=1']);
      }, everyMs);
    },
    stopWatchdog() {
      timer?.cancel();
      timer = null;
    },
  };
}
