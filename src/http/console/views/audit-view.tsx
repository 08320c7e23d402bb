import type { Operator } from '../../../console/operator.js';
import type { AuditSearchRow } from '../../../store/audit-search.js';
import type { AuditQuery } from '../audit-query.js';
import { zoned } from '../view-model.js';
import { PageLayout } from './page-layout.js';
import { Table } from './status-sections.js';

/*
 * /audit: the decision log searched by person (email), door, reader, result, reason and time
 * (wall clock in the site's zone), newest first, one page at a time; the same filters download
 * as CSV. A plain GET form: bookmarkable, and it works without JavaScript.
 */

export interface AuditViewProps {
  site: string;
  timeZone: string;
  viewer: Operator;
  query: AuditQuery;
  rows: AuditSearchRow[];
  /** The query string of the next page, or null on the last one. */
  nextHref: string | null;
  csvHref: string;
  error: string | null;
}

const Field = (p: { name: keyof AuditQuery; label: string; value: string | undefined; type?: string }) => (
  <label>
    {p.label}
    <input type={p.type ?? 'text'} name={p.name} value={p.value ?? ''} />
  </label>
);

export function AuditPage(p: AuditViewProps) {
  const q = p.query;
  return (
    <PageLayout title="audit" site={p.site} timeZone={p.timeZone} viewer={p.viewer} csrf={null} live={false}>
      <main>
        <h1>Audit log · site {p.site}</h1>
        <form method="get" action="/audit" class="filters">
          <Field name="email" label="person (email)" value={q.email} type="email" />
          <Field name="door" label="door" value={q.door} />
          <Field name="reader" label="reader" value={q.reader} />
          <label>
            result
            <select name="result">
              <option value="" selected={q.result === undefined}>any</option>
              <option value="granted" selected={q.result === 'granted'}>granted</option>
              <option value="denied" selected={q.result === 'denied'}>denied</option>
            </select>
          </label>
          <Field name="reason" label="reason" value={q.reason} />
          <Field name="from" label={`from (${p.timeZone})`} value={q.from} type="datetime-local" />
          <Field name="to" label={`to (${p.timeZone})`} value={q.to} type="datetime-local" />
          <button type="submit">search</button>
          <a href={p.csvHref} id="csv">download CSV</a>
        </form>
        {p.error ? <p class="flash bad" id="flash">{p.error}</p> : null}
        <Table head={['time', 'person', 'credential', 'reader → door', 'result', 'reason', 'source', 'relay', 'count']} empty="no matching decisions">
          {p.rows.map((r) => (
            <tr class={`decision ${r.result}`}>
              <td>{zoned(r.at, p.timeZone)}</td>
              <td>{r.name ? `${r.name} <${r.email ?? ''}>` : r.email ?? '—'}</td>
              <td><code>{r.credential ?? '—'}</code></td>
              <td>{r.reader ?? '—'} → {r.door ?? '—'}</td>
              <td class={r.result === 'granted' ? 'ok' : 'bad'}>{r.result}</td>
              <td>{r.reason}{r.event ? ` (${r.event})` : ''}</td>
              <td>{r.source ?? '—'}</td>
              <td>{r.relay ?? '—'}</td>
              <td>{r.count}</td>
            </tr>
          ))}
        </Table>
        {p.nextHref ? <p><a href={p.nextHref} id="next-page">older →</a></p> : null}
      </main>
    </PageLayout>
  );
}
