import { afterEach, describe, expect, it } from 'vitest';
import { consoleSite } from './console-fixture-site.js';

/* The platform section with several locations (README "Locations"): one row each, a disconnected one without a link. */

let site: ReturnType<typeof consoleSite>;
afterEach(() => site?.close());

describe('the platform section with locations', () => {
  it('lists each location with its connection, disconnect policy and link state', async () => {
    const link = { state: 'ok', lastError: null, lastSuccessAt: null, unknownResources: [], lastCallbackAt: Date.parse('2026-12-03T08:45:00Z'), lastReconcile: null, subscriptions: [], detail: {} };
    site = consoleSite({
      upstream: link,
      locations: [
        { id: 'hq', name: 'Head office', connection: 'connected', onDisconnect: 'keep', upstream: link },
        { id: 'annex', name: 'annex', connection: 'disconnected', onDisconnect: 'revoke', upstream: null },
      ],
    });
    const html = await (await site.make({ name: 'olga', role: 'operator' }).app.request('/')).text();
    expect(html).toContain('<td>Head office (hq)</td><td class="ok">connected</td><td>keep</td><td>ok</td><td>2026-12-03 09:45:00</td>');
    expect(html).toContain('<td>annex</td><td class="bad">disconnected</td><td>revoke</td><td>not running</td><td>—</td>');
  });

  it('shows no location table for a site with one location', async () => {
    site = consoleSite({ locations: [{ id: 'acme', name: 'acme', connection: 'connected', onDisconnect: 'keep', upstream: null }] });
    const html = await (await site.make({ name: 'olga', role: 'operator' }).app.request('/')).text();
    expect(html).not.toContain('on disconnect');
  });
});
