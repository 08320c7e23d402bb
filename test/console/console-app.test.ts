import { afterEach, describe, expect, it } from 'vitest';
import { form } from '../helpers/console-fixtures.js';
import { consoleSite } from './console-fixture-site.js';

/*
 * The console's routes through app.request(): what each role sees, what each may do, and that a
 * refused form (no token, a wrong token, a role too low, a bad field) runs nothing.
 */

const operator = { name: 'olga', role: 'operator' } as const;
const viewer = { name: 'vic', role: 'viewer' } as const;
const admin = { name: 'ada', role: 'admin' } as const;

let site: ReturnType<typeof consoleSite>;
afterEach(() => site?.close());

describe('the status page', () => {
  it('shows an anonymous visitor masked credentials only: no names, no emails, no forms', async () => {
    site = consoleSite();
    const res = await site.make(null).app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toContain('*****61');
    expect(html).toContain('Front &lt;entrance&gt;'); // escaped, not markup
    expect(html).not.toContain('Ana');
    expect(html).not.toContain('@example.com');
    expect(html).not.toContain('<form');
    expect(html).not.toContain('7340861');
    expect(html).not.toMatch(/<script>/); // only the served file, no inline script
    expect(html).toContain('<script src="/console.js" defer="">');
  });

  it('shows a signed-in operator the names (escaped), the people pending a card, and the operator forms but not learn mode', async () => {
    site = consoleSite();
    const html = await (await site.make(operator).app.request('/')).text();
    expect(html).toContain('Ana &lt;b&gt;Lima&lt;/b&gt;');
    expect(html).toContain('People pending a card (1)');
    expect(html).toContain('Zoe Pending');
    expect(html).toContain('action="/actions/door.pulse"');
    expect(html).toContain('action="/actions/lockdown.set"');
    expect(html).toContain('name="_csrf" value="tok-1"');
    expect(html).not.toContain('/actions/reader.learn');
    expect(html).toContain('granted · staff'); // the source that granted
    expect(html).toContain('ok at 2026-12-03 09:59:00'); // the door's last ack, in the site zone too
  });

  it('draws no action button for a viewer, and learn mode for an admin', async () => {
    site = consoleSite();
    const asViewer = await (await site.make(viewer).app.request('/')).text();
    expect(asViewer).not.toContain('<form method="post"');
    const asAdmin = await (await site.make(admin).app.request('/')).text();
    expect(asAdmin).toContain('/actions/reader.learn');
    expect(asAdmin).toContain('/actions/learned.assign');
  });

  it('shows times in the site zone, and names it', async () => {
    site = consoleSite({ timeZone: 'America/New_York' });
    const html = await (await site.make(null).app.request('/')).text();
    expect(html).toContain('times in America/New_York');
    // 08:59:00Z is 03:59:00 in New York in December.
    expect(html).toContain('2026-12-03 03:59:00');
  });
});

describe('actions from the page', () => {
  it('runs a pulse as the signed-in operator via the console, then shows its flash message once', async () => {
    site = consoleSite();
    const { app } = site.make(operator);
    const res = await app.request('/actions/door.pulse', form({ _csrf: 'tok-1', door: 'front' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(site.actions.runs).toEqual([{ actor: 'console:olga', role: 'operator', action: { action: 'door.pulse', door: 'front' } }]);
    const page = await (await app.request('/')).text();
    expect(page).toContain('door.pulse done');
    expect(await (await app.request('/')).text()).not.toContain('door.pulse done');
  });

  it('turns the lockdown form into a boolean and a hold into minutes', async () => {
    site = consoleSite();
    const { app } = site.make(operator);
    await app.request('/actions/lockdown.set', form({ _csrf: 'tok-1', on: 'true' }));
    await app.request('/actions/door.hold', form({ _csrf: 'tok-1', door: 'front', minutes: '15' }));
    expect(site.actions.runs.map((r) => r.action)).toEqual([{ action: 'lockdown.set', on: true }, { action: 'door.hold', door: 'front', minutes: 15 }]);
  });

  it('refuses a form without the token, or with another session\'s, and runs nothing', async () => {
    site = consoleSite();
    const { app } = site.make(operator);
    expect((await app.request('/actions/door.pulse', form({ door: 'front' }))).status).toBe(403);
    expect((await app.request('/actions/door.pulse', form({ _csrf: 'tok-2', door: 'front' }))).status).toBe(403);
    expect(site.actions.runs).toEqual([]);
  });

  it('checks the role on the server: a viewer with a valid token is refused', async () => {
    site = consoleSite();
    const res = await site.make(viewer).app.request('/actions/door.pulse', form({ _csrf: 'tok-1', door: 'front' }));
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('door.pulse needs the operator role');
    const learn = await site.make(operator).app.request('/actions/reader.learn', form({ _csrf: 'tok-1', reader: 'desk' }));
    expect(learn.status).toBe(403);
    expect(site.actions.runs).toEqual([]);
  });

  it('refuses what ActionSchema refuses, with the field named, and an unknown action', async () => {
    site = consoleSite();
    const { app } = site.make(operator);
    const zero = await app.request('/actions/door.hold', form({ _csrf: 'tok-1', door: 'front', minutes: '0' }));
    expect(zero.status).toBe(400);
    expect(await zero.text()).toContain('minutes');
    const extra = await app.request('/actions/door.pulse', form({ _csrf: 'tok-1', door: 'front', evil: '1' }));
    expect(extra.status).toBe(400);
    expect((await app.request('/actions/door.explode', form({ _csrf: 'tok-1' }))).status).toBe(404);
    expect(site.actions.runs).toEqual([]);
  });

  it('shows learn mode\'s captured card to the admin who armed the reader, and to no other session', async () => {
    site = consoleSite();
    const { app } = site.make({ a: { operator: admin, token: 'admin-tok' }, b: { operator: { name: 'bea', role: 'admin' }, token: 'other-tok' } });
    // The real learn brings the capture back in the result's `detail`; so does this one.
    const record = site.actions.run.bind(site.actions);
    site.actions.run = async (actor, action) => {
      const r = await record(actor, action);
      return r.ok && action.action === 'reader.learn' ? { ...r, message: 'card read', detail: { learn: 'L-1', card: '7340999' } } : r;
    };
    const res = await app.request('/actions/reader.learn', { ...form({ _csrf: 'admin-tok', reader: 'desk' }), headers: { ...form({}).headers, cookie: 'sid=a' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/#learn');
    const other = await (await app.request('/', { headers: { cookie: 'sid=b' } })).text();
    expect(other).not.toContain('7340999');
    const anonymous = await (await app.request('/')).text();
    expect(anonymous).not.toContain('7340999');
    const mine = await (await app.request('/', { headers: { cookie: 'sid=a' } })).text();
    expect(mine).toContain('7340999');
    expect(mine).toContain('value="L-1"'); // the assign form is filled in
    expect(site.actions.runs[0]).toMatchObject({ actor: 'console:ada', action: { action: 'reader.learn', reader: 'desk' } });
  });
});
