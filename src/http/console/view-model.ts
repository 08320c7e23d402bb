import type { Operator } from '../../console/operator.js';
import type { DecisionEvent } from '../../pipeline/recent-decisions.js';
import type { LockdownState } from '../../store/site-repository.js';
import { formatInZone } from '../../util/zoned-time.js';
import type { GatewayStatus } from '../status.js';

/*
 * What the console's sections are rendered from: the gateway's status plus what only a
 * signed-in operator sees (names, the enrolment queue). Built per request or per SSE tick and
 * per role, never per person id: `person` is already the email and name.
 */

export interface LatencyBucket {
  /** Upper bound in seconds (Infinity for the last). */
  le: number;
  /** Observations in this bucket alone (not cumulative). */
  count: number;
}

export interface ConsoleView {
  status: GatewayStatus;
  timeZone: string;
  /** Null for an anonymous visitor: masked credentials only, no names, no actions. */
  viewer: Operator | null;
  decisions: Array<{ event: DecisionEvent; person: { email: string; name: string | null } | null }>;
  /** Null when anonymous (emails are not shown to them). */
  pending: { count: number; people: Array<{ email: string; name: string | null }> } | null;
  latency: LatencyBucket[] | null;
  lockdown: LockdownState | null;
  /** Whether the page runs live (the console) or is the plain page of the gateway without one. */
  live: boolean;
}

/** `2026-12-03 10:15:02` in the site's zone (the header names the zone once). */
export function zoned(ms: number | null | undefined, timeZone: string): string {
  if (!ms) return '—';
  return formatInZone(ms, timeZone).slice(0, 19).replace('T', ' ');
}

/** A status text that embeds ISO instants (a door's `lastAck`: `ok at 2026-…Z`), with them shown in the site's zone. */
export function zonedText(text: string, timeZone: string): string {
  return text.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, (iso) => zoned(Date.parse(iso), timeZone));
}
