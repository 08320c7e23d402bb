import { Hono, type MiddlewareHandler } from 'hono';
import { stream } from 'hono/streaming';
import type { ConsoleEnv } from '../../console/operator.js';
import { allAuditMatches, encodeAuditCursor, searchAudit } from '../../store/audit-search.js';
import type { DbHolder } from '../../store/store.js';
import type { GatewayStatus } from '../status.js';
import { AUDIT_CSV_HEADER, auditCsvLine, csvLine } from './audit-csv.js';
import { parseAuditQuery, type AuditQuery } from './audit-query.js';
import { AuditPage } from './views/audit-view.js';
import { renderDocument } from './views/status-view.js';

/*
 * /audit and /audit.csv, for signed-in operators (any role): the audit log names people, which
 * an anonymous page never does. The CSV is written one LIMITed page at a time with a wait for
 * the socket between pages, so a year of rows neither sits in memory nor holds the database
 * connection (better-sqlite3 is synchronous: an open iterator would block every other query).
 */

export const AUDIT_PAGE_ROWS = 50;

interface AuditRouteDeps {
  session: MiddlewareHandler<ConsoleEnv>;
  secured: MiddlewareHandler<ConsoleEnv>;
  store: DbHolder;
  timeZone: () => string;
  status: () => GatewayStatus;
}

const queryString = (q: AuditQuery, extra: Record<string, string> = {}): string => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...q, after: undefined, ...extra })) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
};

export function auditRoutes(deps: AuditRouteDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const { session, secured } = deps;

  app.get('/audit', session, secured, (c) => {
    const viewer = c.get('operator');
    if (!viewer) return c.html(renderDocument(<p>Sign in to see the audit log: <a href="/login">sign in</a></p>), 401);
    const timeZone = deps.timeZone();
    const parsed = parseAuditQuery(c.req.query(), timeZone);
    const site = deps.status().site;
    if (!parsed.ok) {
      return c.html(renderDocument(<AuditPage site={site} timeZone={timeZone} viewer={viewer} query={{}} rows={[]} nextHref={null} csvHref="/audit.csv" error={parsed.error} />), 400);
    }
    const { query, filter, after } = parsed.value;
    const page = searchAudit(deps.store, filter, AUDIT_PAGE_ROWS, after);
    const nextHref = page.next ? `/audit${queryString(query, { after: encodeAuditCursor(page.next) })}` : null;
    return c.html(renderDocument(<AuditPage site={site} timeZone={timeZone} viewer={viewer} query={query} rows={page.rows} nextHref={nextHref} csvHref={`/audit.csv${queryString(query)}`} error={null} />));
  });

  app.get('/audit.csv', session, secured, (c) => {
    if (!c.get('operator')) return c.text('sign in to export the audit log', 401);
    const timeZone = deps.timeZone();
    const parsed = parseAuditQuery(c.req.query(), timeZone);
    if (!parsed.ok) return c.text(parsed.error, 400);
    const { filter } = parsed.value;
    c.header('content-type', 'text/csv; charset=utf-8');
    c.header('content-disposition', `attachment; filename="lintel-audit-${deps.status().site}.csv"`);
    return stream(c, async (out) => {
      let aborted = false;
      out.onAbort(() => {
        aborted = true;
      });
      try {
        await out.write(csvLine([...AUDIT_CSV_HEADER]));
        for (const rows of allAuditMatches(deps.store, filter)) {
          if (aborted) break;
          await out.write(rows.map((r) => auditCsvLine(r, timeZone)).join(''));
        }
      } catch {
        // The client went away mid-export: nothing to answer, nothing to keep.
      }
    });
  });

  return app;
}
