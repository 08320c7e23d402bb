import type { ResilienceSite } from './resilience-site.js';
import { sleep, waitFor } from './lintel-process.js';

/*
 * Swipes a card that is granted at a door, on a fixed beat, and pairs each swipe with the
 * unlock command the subscriber saw for that door (the nth command after the start belongs to
 * the nth swipe: every granted read publishes one). What the door sees, measured outside.
 */

export interface SwipeSeries {
  sentAt: number[];
  /** Arrival time at the subscriber of each swipe's command (NaN if none came). */
  arrivedAt: number[];
  /** Swipe → command in milliseconds, from performance.now() on both ends (sub-millisecond). */
  latencies(): number[];
}

export async function swipeSeries(
  site: ResilienceSite,
  reader: number,
  card: string,
  opts: { everyMs: number; untilMs: number; settleMs?: number },
): Promise<SwipeSeries> {
  const door = site.readers[reader]!.door;
  const base = site.commands.filter((c) => c.door === door).length;
  const sentAt: number[] = [];
  const sentHr: number[] = [];
  while (Date.now() < opts.untilMs) {
    sentAt.push(Date.now());
    sentHr.push(performance.now());
    site.swipe(reader, card);
    await sleep(opts.everyMs);
  }
  await waitFor('a command for every swipe', () => (site.commands.filter((c) => c.door === door).length - base >= sentAt.length ? true : undefined), opts.settleMs ?? 15_000, 50).catch(() => undefined);
  const cmds = site.commands.filter((c) => c.door === door).slice(base);
  const arrivedAt = sentAt.map((_, i) => cmds[i]?.at ?? NaN);
  const arrivedHr = sentAt.map((_, i) => cmds[i]?.hrAt ?? NaN);
  return { sentAt, arrivedAt, latencies: () => sentHr.map((t, i) => arrivedHr[i]! - t) };
}
