import type { AreaDef } from '../model.js';
import { DAY_MS, firstInstantAtOrAfter, localMsOf, MINUTE_MS } from '../../util/zoned-time.js';

/*
 * The instant an area's daily anti-passback reset last happened at or before `at`, in the
 * site's zone: the first instant the wall clock read `resetAt` that local day (a reset inside a
 * spring-forward gap happens when the gap ends), or the day before when today's is still to
 * come. -Infinity for an area that never resets. Pure arithmetic over Intl offsets.
 */
export function lastResetBefore(timeZone: string): (area: AreaDef, at: number) => number {
  return (area, at) => {
    if (area.resetAt === null) return -Infinity;
    const day = Math.floor(localMsOf(at, timeZone) / DAY_MS);
    const today = firstInstantAtOrAfter(day * DAY_MS + area.resetAt * MINUTE_MS, timeZone);
    return today <= at ? today : firstInstantAtOrAfter((day - 1) * DAY_MS + area.resetAt * MINUTE_MS, timeZone);
  };
}
