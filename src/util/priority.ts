import { setPriority } from 'node:os';

/**
 * Nice value for work that shares the door controller with the badge path but must never
 * delay it: the upstream thread and operator commands such as `cards import`.
 */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's CPU priority. On Linux the nice value is per thread:
 * setpriority(PRIO_PROCESS, 0), which os.setPriority(0, …) calls, sets the caller's, and threads
 * it creates afterwards inherit it. Raising one's own nice value needs no privilege. When both
 * want a core, the scheduler gives a nice-0 thread about 9 times a nice-10 one's share.
 * Returns the error message when the platform refused; nothing depends on it succeeding.
 */
export function lowerOwnPriority(nice = BACKGROUND_NICE): string | null {
  try {
    setPriority(0, nice);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
