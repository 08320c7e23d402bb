import type { Child } from 'hono/jsx';
import type { DecisionEvent } from '../../../pipeline/recent-decisions.js';
import { zoned, zonedText, type ConsoleView, type LatencyBucket } from '../view-model.js';

/*
 * The sections of the status page. Each is a <section id="sec-..."> the live script replaces
 * whole when /events sends it again, so a section renders from the view alone. hono/jsx
 * escapes every text and attribute: a door named `<b>` is shown as typed.
 */

const Badge = (p: { ok: boolean | null; yes: string; no: string }) =>
  p.ok === null ? <span class="unk">unknown</span> : p.ok ? <span class="ok">{p.yes}</span> : <span class="bad">{p.no}</span>;

export function Table(p: { head: string[]; empty?: string; children?: Child }) {
  const rows = p.children;
  const none = rows === undefined || rows === null || (Array.isArray(rows) && rows.length === 0);
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>{p.head.map((h) => <th>{h}</th>)}</tr>
        </thead>
        <tbody>{none ? <tr><td colspan={p.head.length}>{p.empty ?? 'none'}</td></tr> : rows}</tbody>
      </table>
    </div>
  );
}

export function HealthHeader({ view }: { view: ConsoleView }) {
  const s = view.status;
  const failing = Object.entries(s.checks).filter(([, c]) => !c.ok);
  return (
    <section id="sec-health">
      <h1>
        lintel · site {s.site} · <span class={`health health-${s.health}`} id="health">{s.health}</span>
      </h1>
      {view.lockdown?.on ? (
        <p class="banner bad" id="lockdown-banner">
          LOCKDOWN: every door is locked{view.lockdown.updatedBy ? ` (by ${view.lockdown.updatedBy} at ${zoned(view.lockdown.updatedAt, view.timeZone)})` : ''}
        </p>
      ) : null}
      <p>
        version {s.version} · up since {zoned(s.startedAt, view.timeZone)} · MQTT <Badge ok={s.mqtt.connected} yes="connected" no="disconnected" /> · as of {zoned(s.now, view.timeZone)}
      </p>
      {failing.length > 0 ? (
        <ul class="faults">{failing.map(([name, c]) => <li><b>{name}</b>: {c.detail}</li>)}</ul>
      ) : null}
    </section>
  );
}

export function AlarmsSection({ view, ack }: { view: ConsoleView; ack?: (alarmId: string) => Child }) {
  const alarms = view.status.alarms;
  if (alarms.length === 0) return <section id="sec-alarms"></section>;
  return (
    <section id="sec-alarms">
      <h2 class="bad">Alarms</h2>
      <Table head={['alarm', 'where', 'when', 'state', '']}>
        {alarms.map((a) =>
          a.kind === 'reader_locked' ? (
            <tr class="alarm">
              <td>reader locked</td>
              <td>reader {a.readerId}</td>
              <td>until {zoned(a.until, view.timeZone)}</td>
              <td>{a.detail}</td>
              <td></td>
            </tr>
          ) : (
            <tr class="alarm" data-alarm={a.id}>
              <td>{a.kind.replace('_', ' ')}</td>
              <td>door {a.door}</td>
              <td>since {zoned(a.raisedAt, view.timeZone)}</td>
              <td>
                {a.detail}
                {a.acknowledgedAt ? ` · acknowledged by ${a.acknowledgedBy ?? '?'} at ${zoned(a.acknowledgedAt, view.timeZone)}` : ' · not acknowledged'}
              </td>
              <td>{!a.acknowledgedAt && ack ? ack(a.id) : null}</td>
            </tr>
          ),
        )}
      </Table>
    </section>
  );
}

export function DoorsSection({ view }: { view: ConsoleView }) {
  return (
    <section id="sec-doors">
      <h2>Doors</h2>
      <Table head={['door', 'name', 'controller', 'relay', 'contact', 'last command', 'ack latency', 'held', 'alarms']}>
        {view.status.doors.map((d) => {
          const alarms = view.status.alarms.filter((a) => a.kind !== 'reader_locked' && a.door === d.id);
          return (
            <tr data-door={d.id}>
              <td>{d.id}</td>
              <td>{d.name}</td>
              <td><Badge ok={d.online} yes="online" no="offline" /></td>
              <td class="relay">{d.relay}</td>
              <td>{d.contact}</td>
              <td>{d.lastAck ? zonedText(d.lastAck, view.timeZone) : '—'}</td>
              <td>{d.ackLatencyMs === null ? '—' : `${d.ackLatencyMs} ms`}</td>
              <td>{holdText(d.hold, view.timeZone)}</td>
              <td>{alarms.length === 0 ? '—' : <span class="bad">{alarms.map((a) => a.kind.replace('_', ' ')).join(', ')}</span>}</td>
            </tr>
          );
        })}
      </Table>
    </section>
  );
}

function holdText(hold: ConsoleView['status']['doors'][number]['hold'], timeZone: string): string {
  if (hold === null) return '—';
  const operator = hold.by === null ? '' : `by ${hold.by}${hold.until === null ? '' : ` until ${zoned(hold.until, timeZone)}`}`;
  return [operator, hold.schedule ? 'by its schedule' : ''].filter((t) => t !== '').join('; ');
}

export function ReadersSection({ view }: { view: ConsoleView }) {
  return (
    <section id="sec-readers">
      <h2>Readers</h2>
      <Table head={['reader', 'kind', 'door', 'state', 'last read', 'lines', 'dropped (long / garbage)', 'reconnects', 'last error']}>
        {view.status.readers.map((r) => (
          <tr>
            <td>{r.id}</td>
            <td>{r.kind}</td>
            <td>{r.door}</td>
            <td><Badge ok={r.connected} yes="connected" no="disconnected" /></td>
            <td>{zoned(r.lastReadAt, view.timeZone)}</td>
            <td>{r.lines}</td>
            <td>{r.dropped.overlong} / {r.dropped.garbage}</td>
            <td>{r.reconnects}</td>
            <td>{r.lastError ?? '—'}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}

export function UpstreamSection({ view }: { view: ConsoleView }) {
  const up = view.status.upstream;
  const ix = view.status.index;
  return (
    <section id="sec-upstream">
      <h2>Booking platform and index</h2>
      {up ? (
        <>
        <p>
          state <b class={up.state === 'ok' ? 'ok' : 'bad'}>{up.state}</b> · last success {zoned(up.lastSuccessAt, view.timeZone)}
          {up.lastError ? ` · last error: ${up.lastError}` : ''}
          {up.state === 'ok' ? '' : ' — deciding from the local cache'}
          {up.unknownResources.length > 0 ? <><br />Mapped resources the platform does not have: {up.unknownResources.join(', ')}</> : null}
          <br />last callback {zoned(up.lastCallbackAt, view.timeZone)} · last reconcile{' '}
          {up.lastReconcile ? `${zoned(up.lastReconcile.at, view.timeZone)} (${up.lastReconcile.durationMs} ms, ${up.lastReconcile.changed} changes, ${up.lastReconcile.failed} failed fetches)` : '—'}
        </p>
        {up.subscriptions.length > 0 ? (
          <Table head={['callback subscription', 'state', 'expires']}>
            {up.subscriptions.map((x) => <tr><td>{x.id}</td><td>{x.state}</td><td>{zoned(x.expiresAt, view.timeZone)}</td></tr>)}
          </Table>
        ) : null}
        </>
      ) : (
        <p>not configured</p>
      )}
      {(view.status.locations?.length ?? 0) > 1 ? (
        // Several locations (README "Locations"): each with its own link, or none while disconnected.
        <Table head={['location', 'connection', 'on disconnect', 'platform link', 'last callback']}>
          {view.status.locations!.map((l) => (
            <tr>
              <td>{l.name === l.id ? l.id : `${l.name} (${l.id})`}</td>
              <td class={l.connection === 'connected' ? 'ok' : 'bad'}>{l.connection}</td>
              <td>{l.onDisconnect}</td>
              <td>{l.upstream ? l.upstream.state : 'not running'}</td>
              <td>{l.upstream ? zoned(l.upstream.lastCallbackAt, view.timeZone) : '—'}</td>
            </tr>
          ))}
        </Table>
      ) : null}
      <p>
        index: <b>{ix.people}</b> people · <b>{ix.cards}</b> cards · <b>{ix.grants}</b> grants · <b>{ix.doors}</b> doors
      </p>
    </section>
  );
}

export function PendingSection({ view }: { view: ConsoleView }) {
  if (!view.pending) return <section id="sec-pending"></section>;
  const { count, people } = view.pending;
  return (
    <section id="sec-pending">
      <h2>People pending a card ({count})</h2>
      {count === 0 ? <p>none</p> : <ul class="pending">{people.map((p) => <li>{p.name ? `${p.name} <${p.email}>` : p.email}</li>)}</ul>}
      {count > people.length ? <p>… and {count - people.length} more</p> : null}
    </section>
  );
}

/** One decision row: also what /events sends for a new one, rendered for the client's role. */
export function DecisionRow(p: { event: DecisionEvent; person: { email: string; name: string | null } | null; signedIn: boolean; timeZone: string }) {
  const e = p.event;
  return (
    <tr class={`decision ${e.result}`}>
      <td>{zoned(e.at, p.timeZone)}</td>
      {p.signedIn ? <td>{p.person ? p.person.name ?? p.person.email : '—'}</td> : null}
      <td><code>{e.credential}</code></td>
      <td>{e.kind}</td>
      <td>{e.readerId} → {e.doorId}</td>
      <td><Badge ok={e.result === 'granted'} yes="granted" no="denied" /></td>
      <td>{e.reason}{e.source ? ` · ${e.source}` : ''}</td>
      <td>{e.relay}</td>
    </tr>
  );
}

export function decisionHead(signedIn: boolean): string[] {
  return ['time', ...(signedIn ? ['person'] : []), 'credential', 'kind', 'reader → door', 'result', 'reason / source', 'relay'];
}

export function DecisionsSection({ view }: { view: ConsoleView }) {
  const signedIn = view.viewer !== null;
  return (
    <section id="sec-decisions">
      <h2>Latest decisions</h2>
      <div class="scroll">
        <table>
          <thead><tr>{decisionHead(signedIn).map((h) => <th>{h}</th>)}</tr></thead>
          <tbody id="decision-rows">
            {view.decisions.map((d) => <DecisionRow event={d.event} person={d.person} signedIn={signedIn} timeZone={view.timeZone} />)}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const label = (le: number): string => (le === Infinity ? 'more' : le < 0.001 ? `≤ ${Math.round(le * 1e6)} µs` : `≤ ${+(le * 1000).toFixed(2)} ms`);

export function LatencySection({ latency }: { latency: LatencyBucket[] | null }) {
  if (!latency) return <section id="sec-latency"><h2>Decision latency</h2><p>no decision latency histogram in this gateway's metrics</p></section>;
  const max = Math.max(1, ...latency.map((b) => b.count));
  return (
    <section id="sec-latency">
      <h2>Decision latency</h2>
      <table class="histogram">
        <tbody>
          {latency.map((b) => (
            <tr>
              <th>{label(b.le)}</th>
              <td><meter min={0} max={max} value={b.count}></meter></td>
              <td>{b.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
