import type { Operator } from '../../console/operator.js';
import { peopleByIds, peoplePendingCard } from '../../store/audit-search.js';
import { readLockdown } from '../../store/site-repository.js';
import type { ConsoleDeps } from './console-app.js';
import type { ConsoleView } from './view-model.js';
import { LIVE_SECTIONS } from './views/status-view.js';

/** People listed in the enrolment queue; the count is exact. */
const PENDING_SHOWN = 20;

/**
 * One view of the console for one viewer: cheap reads only (the status snapshot, the recent
 * ring, a primary-key read of the lockdown flag, two LIMITed queries for the signed-in).
 */
export async function buildConsoleView(deps: ConsoleDeps, viewer: Operator | null): Promise<ConsoleView> {
  const status = deps.status();
  const recent = deps.live.recent.listWithPeople();
  const names = viewer ? peopleByIds(deps.store, recent.flatMap((d) => (d.personId === null ? [] : [d.personId]))) : new Map();
  return {
    status,
    timeZone: deps.timeZone(),
    viewer,
    decisions: recent.map((d) => ({ event: d.event, person: d.personId === null ? null : names.get(d.personId) ?? null })),
    pending: viewer ? peoplePendingCard(deps.store, PENDING_SHOWN) : null,
    latency: deps.latency ? await deps.latency() : null,
    lockdown: readLockdown(deps.store.db),
    live: true,
  };
}

/** The `status` event's data: each live section's HTML by id, forms without a token (the script fills it). */
export function renderLiveSections(view: ConsoleView): string {
  const ctx = { viewer: view.viewer, csrf: '' };
  return JSON.stringify(Object.fromEntries(Object.entries(LIVE_SECTIONS).map(([id, render]) => [id, String(render(view, ctx))])));
}
