import type { GatewayStatus } from './status.js';

/*
 * The local status page: server-rendered, no scripts, refreshes itself every 5 s. Everything
 * shown is escaped; card numbers arrive already masked.
 */

const esc = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

const time = (ms: number | null | undefined): string => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '—');

const badge = (ok: boolean | null, yes: string, no: string, unknown = 'unknown'): string =>
  ok === null ? `<span class="unk">${unknown}</span>` : ok ? `<span class="ok">${yes}</span>` : `<span class="bad">${no}</span>`;

function table(headers: string[], rows: string[][]): string {
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.length === 0 ? `<tr><td colspan="${headers.length}">none</td></tr>` : rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderStatusPage(s: GatewayStatus): string {
  const checks = table(
    ['check', 'state', 'detail'],
    Object.entries(s.checks).map(([name, c]) => [esc(name), badge(c.ok, 'ok', 'fault'), esc(c.detail)]),
  );
  const doors = table(
    ['door', 'name', 'controller', 'relay', 'contact', 'last ack'],
    s.doors.map((d) => [esc(d.id), esc(d.name), badge(d.online, 'online', 'offline'), esc(d.relay), esc(d.contact), esc(d.lastAck ?? '—')]),
  );
  const readers = table(
    ['reader', 'kind', 'door', 'state', 'lines', 'dropped (long/garbage)', 'reconnects', 'last error'],
    s.readers.map((r) => [
      esc(r.id), esc(r.kind), esc(r.door), badge(r.connected, 'connected', 'disconnected'), esc(r.lines),
      `${esc(r.dropped.overlong)} / ${esc(r.dropped.garbage)}`, esc(r.reconnects), esc(r.lastError ?? '—'),
    ]),
  );
  const recent = table(
    ['time', 'reader', 'door', 'credential', 'kind', 'result', 'reason', 'relay'],
    s.recent.map((e) => [
      esc(time(e.at)), esc(e.readerId), esc(e.doorId), `<code>${esc(e.credential)}</code>`, esc(e.kind),
      badge(e.result === 'granted', 'granted', 'denied'), esc(e.reason), esc(e.relay),
    ]),
  );
  const alarms =
    s.alarms.length === 0
      ? ''
      : `<h2 class="bad">Alarms</h2>${table(
          ['alarm', 'where', 'when', 'detail'],
          s.alarms.map((a) =>
            a.kind === 'reader_locked'
              ? [esc(a.kind), `reader ${esc(a.readerId)}`, `until ${esc(time(a.until))}`, esc(a.detail)]
              : [esc(a.kind), `door ${esc(a.door)}`, `since ${esc(time(a.raisedAt))}`, esc(a.acknowledgedBy ? `${a.detail} (acknowledged by ${a.acknowledgedBy})` : a.detail)],
          ),
        )}`;
  const upstream = s.upstream
    ? `<p>Booking platform: <b>${esc(s.upstream.state)}</b>; last success ${esc(time(s.upstream.lastSuccessAt))}${
        s.upstream.lastError ? `; last error: ${esc(s.upstream.lastError)}` : ''
      }${s.upstream.state === 'ok' ? '' : ' — deciding from the local cache'}</p>${
        s.upstream.unknownResources.length > 0
          ? `<p>Mapped resources the platform does not have (check <code>resources[].id</code>): ${esc(s.upstream.unknownResources.join(', '))}</p>`
          : ''
      }`
    : '<p>Booking platform: not configured</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>lintel · ${esc(s.site)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.5rem}
table{border-collapse:collapse;min-width:40rem}th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left}
.ok{color:#0a7a32;font-weight:600}.bad{color:#b3261e;font-weight:600}.unk{color:#777}
.health-ok{color:#0a7a32}.health-degraded{color:#a86b00}.health-failing{color:#b3261e}
</style></head><body>
<h1>lintel · site ${esc(s.site)} · <span class="health-${esc(s.health)}" id="health">${esc(s.health)}</span></h1>
<p>version ${esc(s.version)} · up since ${esc(time(s.startedAt))} · index: ${esc(s.index.cards)} cards, ${esc(s.index.people)} people, ${esc(s.index.grants)} grants · MQTT ${badge(s.mqtt.connected, 'connected', 'disconnected')}</p>
${alarms}
${upstream}
<h2>Checks</h2>${checks}
<h2>Doors</h2>${doors}
<h2>Readers</h2>${readers}
<h2>Recent decisions</h2>${recent}
</body></html>`;
}
