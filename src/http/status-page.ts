import type { GatewayStatus } from './status.js';
import { renderDocument, StatusPage } from './console/views/status-view.js';

/*
 * The plain status page of a gateway without the console (no sessions, no actions): the
 * console's sections, server-rendered and escaped by hono/jsx, no script, refreshed every 5 s.
 * Card numbers arrive already masked, and no names are shown: this page has no signed-in operator.
 */
export function renderStatusPage(s: GatewayStatus, timeZone = 'UTC'): string {
  return renderDocument(
    StatusPage({
      view: { status: s, timeZone, viewer: null, decisions: s.recent.map((event) => ({ event, person: null })), pending: null, latency: null, lockdown: null, live: false },
      csrf: null,
      flash: null,
    }),
  );
}
