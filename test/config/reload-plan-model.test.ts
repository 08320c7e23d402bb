import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { planReload } from '../../src/config/reload-plan.js';

/* A SIGHUP that changes the access model: applied live by rebuilding the index, never needing a restart, never patching the relay. */

const base = {
  site: { id: 'hq', timeZone: 'Europe/Berlin' },
  doors: [{ id: 'front' }, { id: 'lab' }],
  readers: [{ id: 'desk', kind: 'stdin', door: 'front' }],
  schedules: { office: { weekly: { 'mon-fri': ['07:00-19:00'] } } },
  holidays: [{ name: 'New Year', date: '01-01' }],
  zones: { lobby: { doors: ['front'] }, lab: { doors: ['lab'] } },
  accessGroups: { staff: { zones: [{ zone: 'lobby', schedule: 'office' }] } },
  areas: { building: { in: ['desk'] } },
  resources: [{ id: 'R-1', doors: ['lab'] }, { id: 'R-2', accessGroups: ['staff'] }],
};
const cfg = (over: Record<string, unknown> = {}) => parseConfig({ ...base, ...over }, 'x.yaml', '/');

describe('planReload and the access model', () => {
  it('rebuilds the index for each model section and takes the new section, with no restart', () => {
    const changes: Array<[Record<string, unknown>, string[]]> = [
      [{ schedules: { office: { weekly: { 'mon-fri': ['08:00-18:00'] } } } }, ['schedules.office.weekly.mon-fri']],
      [{ holidays: [] }, ['holidays']],
      [{ accessGroups: { staff: { zones: [{ zone: 'lobby', schedule: 'office' }], lockdownOverride: true } } }, ['accessGroups.staff.lockdownOverride']],
      [{ areas: { building: { in: ['desk'], antiPassback: 'hard' } } }, ['areas.building.antiPassback']],
      [{ site: { id: 'hq', timeZone: 'Europe/Vienna' } }, ['site.timeZone']],
    ];
    for (const [over, live] of changes) {
      const next = cfg(over);
      const plan = planReload(cfg(), next);
      expect({ live: plan.live, restart: plan.restart, rebuildIndex: plan.rebuildIndex, doorsChanged: plan.doorsChanged }).toEqual({ live, restart: [], rebuildIndex: true, doorsChanged: false });
      expect(plan.config).toEqual(next);
    }
  });

  it('needs no rebuild when nothing of the model changed', () => {
    const plan = planReload(cfg(), cfg({ doors: [{ id: 'front', pulseMs: 500 }, { id: 'lab' }] }));
    expect(plan).toMatchObject({ live: ['doors.front.pulseMs'], rebuildIndex: false, doorsChanged: true, changedResources: [] });
    expect(planReload(cfg(), cfg()).rebuildIndex).toBe(false);
  });

  it("applies a door's mode, unlock schedule and first-person-in by a rebuild, not through the relay", () => {
    const doors = [{ id: 'front', mode: 'scheduled-unlock', unlockSchedule: 'office' }, { id: 'lab', mode: 'card' }];
    const plan = planReload(cfg(), cfg({ doors }));
    expect(plan).toMatchObject({ live: ['doors.front.mode', 'doors.front.unlockSchedule'], restart: [], rebuildIndex: true, doorsChanged: false });
    expect(plan.config.doors.find((d) => d.id === 'front')).toMatchObject({ mode: 'scheduled-unlock', unlockSchedule: 'office' });
  });

  it('rebuilds for a door added or removed only when it is more than a card door', () => {
    const added = planReload(cfg(), cfg({ doors: [...base.doors, { id: 'side' }] }));
    expect(added).toMatchObject({ live: ['doors.side'], rebuildIndex: false, doorsChanged: true });
    const scheduled = { id: 'side', mode: 'scheduled-unlock', unlockSchedule: 'office' };
    expect(planReload(cfg(), cfg({ doors: [...base.doors, scheduled] }))).toMatchObject({ live: ['doors.side'], rebuildIndex: true, doorsChanged: true });
    expect(planReload(cfg({ doors: [...base.doors, scheduled] }), cfg())).toMatchObject({ live: ['doors.side'], rebuildIndex: true, doorsChanged: true });
  });

  it("counts a resource's accessGroups change as a changed resource, as its doors", () => {
    const plan = planReload(cfg(), cfg({ resources: [{ id: 'R-1', doors: ['lab'], accessGroups: ['staff'] }, base.resources[1]] }));
    expect(plan).toMatchObject({ live: ['resources.R-1.accessGroups'], changedResources: ['R-1'], rebuildIndex: false });
  });

  it('re-derives the resources whose groups now reach other doors when a zone or group changes under them', () => {
    const zoneMoved = planReload(cfg(), cfg({ zones: { lobby: { doors: ['front', 'lab'] }, lab: { doors: ['lab'] } } }));
    expect(zoneMoved).toMatchObject({ live: ['zones.lobby.doors'], changedResources: ['R-2'], rebuildIndex: true });
    // A group's schedule never narrows a booking: a schedule change re-derives no resource.
    const rescheduled = planReload(cfg(), cfg({ accessGroups: { staff: { zones: [{ zone: 'lobby' }] } } }));
    expect(rescheduled).toMatchObject({ live: ['accessGroups.staff.zones'], changedResources: [], rebuildIndex: true });
  });

  it('reads an explicit default (mode: card, firstPersonIn: false) as no change', () => {
    const plan = planReload(cfg(), cfg({ doors: [{ id: 'front', mode: 'card', firstPersonIn: false }, { id: 'lab' }] }));
    expect(plan).toMatchObject({ live: [], restart: [], rebuildIndex: false });
  });

  it('keeps site.id a restart while site.timeZone is live', () => {
    const plan = planReload(cfg(), cfg({ site: { id: 'hq2', timeZone: 'UTC' } }));
    expect(plan).toMatchObject({ live: ['site.timeZone'], restart: ['site.id'], rebuildIndex: true });
    expect(plan.config.site).toEqual({ id: 'hq', timeZone: 'UTC' });
  });
});
