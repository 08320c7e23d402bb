import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { diffPaths, planReload } from '../../src/config/reload-plan.js';

/* What a SIGHUP may change live, what needs a restart, and what makes the whole reload refused. */

const base = {
  site: { id: 'hq' },
  dataDir: '/var/lib/lintel',
  doors: [{ id: 'front' }, { id: 'lab', pulseMs: 1000 }],
  readers: [{ id: 'desk', kind: 'stdin', door: 'front' }],
  resources: [{ id: 'R-1', doors: ['front'] }],
  upstream: { baseUrl: 'http://p.example', callbackUrl: 'http://gw.example/webhooks/offision', tokenFile: '/etc/lintel/token' },
};
const cfg = (over: Record<string, unknown> = {}) => parseConfig({ ...base, ...over }, 'x.yaml', '/');

describe('diffPaths', () => {
  it('names list items by id, not position, and added or removed items by their id', () => {
    const a = cfg();
    const b = cfg({ doors: [{ id: 'lab', pulseMs: 1200 }, { id: 'front' }, { id: 'side' }], readers: [] });
    expect(diffPaths(a, b)).toEqual(['doors.lab.pulseMs', 'doors.side', 'readers.desk']);
  });

  it('is empty for an identical file', () => {
    expect(diffPaths(cfg(), cfg())).toEqual([]);
  });
});

describe('planReload', () => {
  it('applies a resource mapping change live and re-derives that resource', () => {
    const plan = planReload(cfg(), cfg({ resources: [{ id: 'R-1', doors: ['lab'] }, { id: 'R-2', doors: ['front'], graceAfterMinutes: 5 }] }));
    expect(plan.problems).toEqual([]);
    expect(plan.live).toEqual(['resources.R-1.doors', 'resources.R-2']);
    expect(plan.restart).toEqual([]);
    expect(plan.changedResources).toEqual(['R-1', 'R-2']);
    expect(plan.config.resources.map((r) => r.id)).toEqual(['R-1', 'R-2']);
  });

  it('applies door fields live (pulseMs, driver, topic, channel, name) and runs the new values', () => {
    const next = cfg({ doors: [{ id: 'front', pulseMs: 500, name: 'Front' }, { id: 'lab', pulseMs: 1000, driver: 'shelly-gen2', topic: 'shellyplus1-lab', relay: { channel: 2 } }] });
    const plan = planReload(cfg(), next);
    expect(plan.problems).toEqual([]);
    expect(plan.live).toEqual(['doors.front.name', 'doors.front.pulseMs', 'doors.lab.driver', 'doors.lab.relay.channel', 'doors.lab.topic']);
    expect(plan.restart).toEqual([]);
    expect(plan.doorsChanged).toBe(true);
    expect(plan.config.doors).toEqual(next.doors);
  });

  it('adds a door live, resources may map to it at once, but its visitors flag waits for a restart', () => {
    const plan = planReload(cfg(), cfg({ doors: [...base.doors, { id: 'side', visitors: true }], resources: [{ id: 'R-1', doors: ['front', 'side'] }] }));
    expect(plan.problems).toEqual([]);
    expect(plan.live).toEqual(['doors.side', 'resources.R-1.doors']);
    expect(plan.restart).toEqual(['doors.side.visitors']);
    expect(plan.config.doors.find((d) => d.id === 'side')).toMatchObject({ id: 'side', visitors: false });
  });

  it('names a changed visitors flag as restart-needed and keeps the running one', () => {
    const plan = planReload(cfg(), cfg({ doors: [{ id: 'front', visitors: true }, { id: 'lab', pulseMs: 1000 }] }));
    expect(plan.restart).toEqual(['doors.front.visitors']);
    expect(plan.doorsChanged).toBe(false);
    expect(plan.config.doors.find((d) => d.id === 'front')?.visitors).toBe(false);
  });

  it('removes a door no running reader uses, and refuses to remove one a reader reads for', () => {
    expect(planReload(cfg(), cfg({ doors: [{ id: 'front' }] }))).toMatchObject({ problems: [], live: ['doors.lab'] });
    const plan = planReload(cfg(), cfg({ doors: [{ id: 'lab', pulseMs: 1000 }], readers: [], resources: [{ id: 'R-1', doors: ['lab'] }] }));
    expect(plan.problems).toEqual(['doors.front: removed, but running reader "desk" reads for it (readers change on a restart)']);
  });

  it('applies a new token file path live, but adding or removing the platform needs a restart', () => {
    expect(planReload(cfg(), cfg({ upstream: { ...base.upstream, tokenFile: '/etc/lintel/token2' } }))).toMatchObject({
      live: ['upstream.tokenFile'],
      restart: [],
    });
    const without = { ...base } as Record<string, unknown>;
    delete without.upstream;
    const plan = planReload(cfg(), parseConfig(without, 'x.yaml', '/'));
    expect(plan.restart).toEqual(['upstream']);
    expect(plan.config.upstream).toEqual(cfg().upstream);
  });

  it('classifies every other section as restart-needed', () => {
    const plan = planReload(cfg(), cfg({ http: { port: 9090 }, qr: { ttlSeconds: 60 } }));
    expect(plan.restart).toEqual(['http.port', 'qr.ttlSeconds']);
    expect(plan.config.http.port).toBe(8080);
  });

  it('applies log.level live; the log format still needs a restart', () => {
    const plan = planReload(cfg(), cfg({ log: { level: 'debug', format: 'journal' } }));
    expect(plan.live).toEqual(['log.level']);
    expect(plan.restart).toEqual(['log.format']);
    expect(plan.config.log).toEqual({ ...cfg().log, level: 'debug' });
  });
});
