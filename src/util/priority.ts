import { getPriority, setPriority } from 'node:os';

/**
 * How much nicer than the badge path runs the work that shares the door controller with it but
 * must never delay it: the upstream thread and operator commands such as `cards import`.
 * Relative, so a gateway that systemd starts with `Nice=-5` keeps the same gap (its upstream
 * thread at 5, not at 10 behind everything else on the box).
 */
export const BACKGROUND_NICE = 10;
const NICEST = 19;

/**
 * Lowers the calling thread's CPU priority by `by` nice steps (at most to 19). On Linux the nice value is per thread:
 * setpriority(PRIO_PROCESS, 0), which os.setPriority(0, …) calls, sets the caller's, and threads
 * it creates afterwards inherit it. Raising one's own nice value needs no privilege. When both
 * want a core, the scheduler gives a nice-0 thread about 9 times a nice-10 one's share.
 * Returns the error message when the platform refused; nothing depends on it succeeding.
 */
export function lowerOwnPriority(by = BACKGROUND_NICE): string | null {
  try {
    // getPriority(0) is the calling thread's own, as setPriority(0, …) sets it.
    setPriority(0, Math.min(NICEST, getPriority(0) + by));
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
