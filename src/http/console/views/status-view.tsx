import type { ConsoleView } from '../view-model.js';
import { AckButton, DoorActions, LearnActions, SiteActions, type FormContext } from './action-forms.js';
import { PageLayout } from './page-layout.js';
import { AlarmsSection, DecisionsSection, DoorsSection, HealthHeader, LatencySection, PendingSection, ReadersSection, UpstreamSection } from './status-sections.js';

/*
 * The status page: the live sections (sent again whole over /events, see LIVE_SECTIONS) and the
 * action forms, which are drawn once per page load with the session's token.
 */

export interface Flash {
  ok: boolean;
  message: string;
  /** An action's result detail shown to the operator who ran it once (learn mode's captured card). */
  detail?: Record<string, unknown>;
}

/** The sections /events replaces by id: rendered from a view and a form context alone. */
export const LIVE_SECTIONS = {
  'sec-health': (v: ConsoleView) => <HealthHeader view={v} />,
  'sec-alarms': (v: ConsoleView, f: FormContext) => <AlarmsSection view={v} ack={(id) => <AckButton ctx={f} alarm={id} />} />,
  'sec-doors': (v: ConsoleView) => <DoorsSection view={v} />,
  'sec-readers': (v: ConsoleView) => <ReadersSection view={v} />,
  'sec-upstream': (v: ConsoleView) => <UpstreamSection view={v} />,
  'sec-pending': (v: ConsoleView) => <PendingSection view={v} />,
  'sec-latency': (v: ConsoleView) => <LatencySection latency={v.latency} />,
} as const;

export function StatusPage({ view, csrf, flash }: { view: ConsoleView; csrf: string | null; flash: Flash | null }) {
  const ctx: FormContext = { viewer: view.viewer, csrf: csrf ?? '' };
  return (
    <PageLayout title="lintel" site={view.status.site} timeZone={view.timeZone} viewer={view.viewer} csrf={csrf} live={view.live} refreshSeconds={view.live ? 15 : 5}>
      <main>
        {flash ? <p class={`flash ${flash.ok ? 'ok' : 'bad'}`} id="flash" role="status">{flash.message}</p> : null}
        {Object.values(LIVE_SECTIONS).map((render) => render(view, ctx))}
        <DecisionsSection view={view} />
        <DoorActions ctx={ctx} doors={view.status.doors} />
        <SiteActions ctx={ctx} lockdown={view.lockdown?.on ?? null} />
        <LearnActions ctx={ctx} readers={view.status.readers} learned={flash?.detail ?? null} />
        <p class="live-state" id="live-state">{view.live ? 'live updates: connecting…' : 'refreshes every 5 s'}</p>
      </main>
    </PageLayout>
  );
}

export function renderDocument(node: unknown): string {
  return `<!doctype html>${String(node)}`;
}
