import { afterEach, describe, expect, it } from 'vitest';
import { csvCell } from '../../src/http/console/audit-csv.js';
import { decodeAuditCursor, encodeAuditCursor, searchAudit } from '../../src/store/audit-search.js';
import { consoleSite } from './console-fixture-site.js';

/*
 * /audit and /audit.csv over a real SQLite file: filters, keyset pages, the site's zone for
 * the time range, and a CSV a spreadsheet cannot be tricked by (RFC 4180, formula-safe).
 */

const viewer = { name: 'vic', role: 'viewer' } as const;
const T0 = Date.parse('2026-12-03T08:00:00Z'); // 09:00 in Zurich

let site: ReturnType<typeof consoleSite>;
afterEach(() => site?.close());

function seed(s: ReturnType<typeof consoleSite>): void {
  const rows = [];
  for (let i = 0; i < 120; i++) {
    rows.push({ at: T0 + i * 60_000, readerId: 'desk', doorId: i % 2 ? 'front' : 'back', credential: '*****61', personId: s.anaId, result: 'granted' as const, reason: 'granted', relay: 'sent' as const, source: 'staff' });
  }
  rows.push({ at: T0 + 200 * 60_000, readerId: 'gate', doorId: 'front', credential: '*****01', personId: null, result: 'denied' as const, reason: '=HYPERLINK("http://x","y")', relay: 'none' as const });
  s.audit.appendMany(rows);
}

describe('the audit view', () => {
  it('is for signed-in operators only', async () => {
    site = consoleSite();
    expect((await site.make(null).app.request('/audit')).status).toBe(401);
    expect((await site.make(null).app.request('/audit.csv')).status).toBe(401);
  });

  it('filters by person, door and result, newest first, in pages of 50 with a link to the next', async () => {
    site = consoleSite();
    seed(site);
    const { app } = site.make(viewer);
    const res = await app.request('/audit?email=ANA@example.com&door=front&result=granted');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.match(/<tr class="decision granted">/g)).toHaveLength(50);
    expect(html).toContain('Ana &lt;b&gt;Lima&lt;/b&gt; &lt;ana@example.com&gt;');
    expect(html).not.toContain('decision denied');
    const next = /href="(\/audit\?[^"]+)" id="next-page"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toContain('after=');
    const second = await (await app.request(next!)).text();
    expect(second.match(/<tr class="decision granted">/g)).toHaveLength(10); // 60 front rows in all
    expect(second).not.toContain('id="next-page"');
  });

  it('reads the time range as wall clock in the site zone', async () => {
    site = consoleSite();
    seed(site);
    // 09:00–09:10 Zurich is 08:00–08:10 UTC: the first ten rows.
    const html = await (await site.make(viewer).app.request('/audit?from=2026-12-03T09:00&to=2026-12-03T09:10')).text();
    expect(html.match(/<tr class="decision/g)).toHaveLength(10);
    expect(html).toContain('2026-12-03 09:09:00');
  });

  it('refuses a bad filter with 400 and says which', async () => {
    site = consoleSite();
    const { app } = site.make(viewer);
    const bad = await app.request('/audit?email=not-an-email');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('email');
    expect((await app.request('/audit?after=bogus')).status).toBe(400);
    expect((await app.request('/audit?from=2026-12-03T10:00&to=2026-12-03T09:00')).status).toBe(400);
    expect((await app.request('/audit?sort=evil')).status).toBe(400);
  });

  it('exports the same filters as CSV: masked, no ids, RFC 4180 quoting, formulas neutralised', async () => {
    site = consoleSite();
    seed(site);
    const res = await site.make(viewer).app.request('/audit.csv?door=front');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const text = await res.text();
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('time,reader,door,credential,email,name,result,reason,source,relay,count,event');
    expect(lines).toHaveLength(1 + 61 + 1); // header, 60 granted + 1 denied, and the final CRLF
    expect(lines[1]).toBe(`2026-12-03T12:20:00+01:00,gate,front,*****01,,,denied,"'=HYPERLINK(""http://x"",""y"")",,none,1,`);
    expect(lines[2]).toBe('2026-12-03T10:59:00+01:00,desk,front,*****61,ana@example.com,Ana <b>Lima</b>,granted,granted,staff,sent,1,');
    expect(text).not.toContain('7340861');
  });

  it('quotes cells as RFC 4180 says and prefixes formula starts', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(null)).toBe('');
    expect(csvCell(3)).toBe('3');
  });

  it('pages by keyset: every row once, across pages, newest first', () => {
    site = consoleSite();
    seed(site);
    const seen: number[] = [];
    let after = null;
    do {
      const page = searchAudit(site.store, {}, 7, after);
      seen.push(...page.rows.map((r) => r.at));
      after = page.next === null ? null : decodeAuditCursor(encodeAuditCursor(page.next));
    } while (after);
    expect(seen).toHaveLength(121);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    expect(new Set(seen).size).toBe(121);
  });
});
