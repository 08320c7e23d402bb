import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { siteLocations, webhookPaths } from '../../src/config/locations.js';
import { planReload } from '../../src/config/reload-plan.js';
import { CLI } from '../helpers/gateway-process.js';

/* `locations` (issue 12): each rule fails with its path; no `locations` means one implicit location holding everything. */

const up = (name: string) => ({ baseUrl: `http://${name}.example`, callbackUrl: `https://gw.example/webhooks/offision/${name}`, token: `tok-${name}` });

const two = {
  site: { id: 'acme', timeZone: 'Europe/Amsterdam' },
  doors: [
    { id: 'front', location: 'hq' },
    { id: 'side', location: 'annex' },
  ],
  resources: [
    { id: 'R-HQ', doors: ['front'], location: 'hq' },
    { id: 'R-AX', doors: ['side'], location: 'annex' },
  ],
  locations: [
    { id: 'hq', name: 'Head office', upstream: up('hq') },
    { id: 'annex', upstream: up('annex'), connection: 'disconnected', onDisconnect: 'revoke' },
  ],
};

function problemsOf(doc: Record<string, unknown>): string[] {
  try {
    parseConfig(doc, 'site.yaml', '/');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('locations in the configuration', () => {
  it('gives each location its doors, resources, link settings and webhook path', () => {
    const locs = siteLocations(parseConfig(two, 'site.yaml', '/'));
    expect(locs.map((l) => ({ id: l.id, name: l.name, doors: l.doors, resources: l.resources.map((r) => r.id), connection: l.connection, onDisconnect: l.onDisconnect, path: l.webhookPath }))).toEqual([
      { id: 'hq', name: 'Head office', doors: ['front'], resources: ['R-HQ'], connection: 'connected', onDisconnect: 'keep', path: '/webhooks/offision/hq' },
      { id: 'annex', name: 'annex', doors: ['side'], resources: ['R-AX'], connection: 'disconnected', onDisconnect: 'revoke', path: '/webhooks/offision/annex' },
    ]);
    // Only the implicit or the only location also answers at the bare path.
    expect(webhookPaths(locs[0]!, locs)).toEqual(['/webhooks/offision/hq']);
  });

  it('without locations: one implicit location named after the site, with everything and the top-level upstream', () => {
    const cfg = parseConfig({ site: { id: 'acme' }, doors: [{ id: 'front' }], resources: [{ id: 'R-1', doors: ['front'] }], upstream: up('one') }, 'site.yaml', '/');
    const [loc, ...rest] = siteLocations(cfg);
    expect(rest).toEqual([]);
    expect(loc).toMatchObject({ id: 'acme', implicit: true, connection: 'connected', onDisconnect: 'keep', doors: ['front'], webhookPath: '/webhooks/offision' });
    expect(loc!.upstream).toBe(cfg.upstream);
    expect(loc!.resources.map((r) => r.id)).toEqual(['R-1']);
  });

  it('with exactly one location, doors and resources may leave their location out; it answers at both paths', () => {
    const cfg = parseConfig({ site: { id: 'acme' }, doors: [{ id: 'front' }], resources: [{ id: 'R-1', doors: ['front'] }], locations: [{ id: 'hq', upstream: up('hq') }] }, 'site.yaml', '/');
    const locs = siteLocations(cfg);
    expect(locs[0]).toMatchObject({ id: 'hq', implicit: false, doors: ['front'] });
    expect(webhookPaths(locs[0]!, locs)).toEqual(['/webhooks/offision/hq', '/webhooks/offision']);
  });

  it('refuses each broken rule with its path', () => {
    expect(problemsOf({ ...two, doors: [{ id: 'front' }, { id: 'side', location: 'annex' }] })).toEqual(['doors[0].location: with several locations every door names its location']);
    expect(problemsOf({ ...two, resources: [{ id: 'R-HQ', doors: ['front'] }, two.resources[1]] })).toEqual(['resources[0].location: with several locations every resource names its location']);
    expect(problemsOf({ ...two, doors: [{ id: 'front', location: 'moon' }, two.doors[1]] })).toEqual(['doors[0].location: unknown location "moon"']);
    expect(problemsOf({ ...two, resources: [{ id: 'R-HQ', doors: ['front', 'side'], location: 'hq' }, two.resources[1]] })).toEqual([
      'resources[0].doors[1]: door "side" is at location "annex", not at the resource\'s location "hq"',
    ]);
    expect(problemsOf({ ...two, upstream: up('top') })).toEqual(['upstream: upstream and locations exclude each other: move upstream into locations[0].upstream']);
    expect(problemsOf({ ...two, locations: [two.locations[0], { ...two.locations[1], upstream: up('hq') }] })).toEqual([
      'locations[1].upstream.callbackUrl: location "hq" has the same callbackUrl; each location\'s platform calls back at its own path',
    ]);
    expect(problemsOf({ ...two, locations: [two.locations[0], { id: 'hq' }] })).toContain('locations[1].id: duplicate location id "hq"');
    const { token: _t, ...noToken } = up('annex');
    expect(problemsOf({ ...two, locations: [two.locations[0], { id: 'annex', upstream: noToken }] })).toEqual(['locations[1].upstream.token: give token or tokenFile']);
    expect(problemsOf({ site: { id: 'acme' }, doors: [{ id: 'front', location: 'hq' }] })).toEqual(['doors[0].location: unknown location "hq" (no locations are configured)']);
    expect(problemsOf({ ...two, locations: [{ ...two.locations[0], connection: 'paused' }, two.locations[1]] })[0]).toMatch(/^locations\[0\]\.connection: /);
  });

  it('a reload connects or disconnects a location live, with the revoke due; adding one or moving its platform needs a restart', () => {
    const running = parseConfig(two, 'site.yaml', '/');
    const at = (annex: Record<string, unknown>, extra: Record<string, unknown>[] = []) =>
      parseConfig({ ...two, locations: [two.locations[0], { ...two.locations[1], ...annex }, ...extra] }, 'site.yaml', '/');

    const connect = planReload(running, at({ connection: 'connected' }));
    expect(connect).toMatchObject({ live: ['locations.annex.connection'], restart: [], locations: { connect: ['annex'], disconnect: [], revoke: [] } });
    expect(connect.config.locations?.[1]?.connection).toBe('connected');

    // Back to disconnected with revoke: the link stops and the revoke runs at this reload.
    const connected = at({ connection: 'connected' });
    expect(planReload(connected, running)).toMatchObject({ live: ['locations.annex.connection'], locations: { connect: [], disconnect: ['annex'], revoke: ['annex'] } });
    // keep → revoke while disconnected: the revoke the next start would run, now.
    expect(planReload(at({ onDisconnect: 'keep' }), running)).toMatchObject({ live: ['locations.annex.onDisconnect'], locations: { disconnect: [], revoke: ['annex'] } });
    // Disconnected with keep: the link stops, nothing is revoked.
    expect(planReload(connected, at({ onDisconnect: 'keep' }))).toMatchObject({ locations: { disconnect: ['annex'], revoke: [] } });

    const token = planReload(running, at({ name: 'Annex', upstream: { ...up('annex'), token: 'tok-new' } }));
    expect(token.live).toEqual(['locations.annex.name', 'locations.annex.upstream.token']);
    expect(token.config.locations?.[1]?.upstream?.token).toBe('tok-new');

    const moved = planReload(running, at({ connection: 'connected', upstream: { ...up('annex'), baseUrl: 'http://elsewhere.example' } }, [{ id: 'lab' }]));
    expect(moved.restart).toEqual(['locations.annex.upstream.baseUrl', 'locations.lab']);
    expect(moved.live).toEqual(['locations.annex.connection']);
    // What runs keeps its platform settings and its set of locations until the restart.
    expect(moved.config.locations?.map((l) => [l.id, l.connection, l.upstream?.baseUrl])).toEqual([
      ['hq', 'connected', 'http://hq.example'],
      ['annex', 'connected', 'http://annex.example'],
    ]);
    // A platform account added to or removed from a location needs a restart.
    expect(planReload(running, at({ upstream: undefined })).restart).toEqual(['locations.annex.upstream']);
  });
});

describe('the shipped examples/locations.yaml', () => {
  it('passes lintel check-config', () => {
    const r = spawnSync(process.execPath, [CLI, 'check-config', join(import.meta.dirname, '../../examples/locations.yaml')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
