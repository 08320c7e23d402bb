import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/tmp.js';

/* `lintel check-config` on the access model: what each group opens now, in the site's zone, in text and JSON. */

// Schedules whose state does not depend on when the test runs: open all week, and never open.
const site = [
  'site: { id: hq, timeZone: Asia/Tokyo }',
  'doors: [{ id: front }, { id: lab }, { id: lobby, mode: scheduled-unlock, unlockSchedule: always }]',
  'schedules:',
  '  always: { weekly: { mon-sun: ["00:00-24:00"] }, holidays: ["00:00-24:00"] }',
  '  never: { weekly: {} }',
  'zones: { entrance: { doors: [front, lobby] }, lab: { doors: [lab] } }',
  'accessGroups:',
  '  staff: { zones: [{ zone: entrance, schedule: always }, { zone: lab, schedule: never }], lockdownOverride: true }',
  '  security: { zones: [{ zone: lab }] }',
];

describe('lintel check-config: access groups', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((c) => c()));

  function check(lines: string[], args: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const file = join(dir, 'lintel.yaml');
    writeFileSync(file, [`dataDir: ${join(dir, 'data')}`, ...lines, ''].join('\n'));
    const r = spawnSync(process.execPath, [CLI, 'check-config', file, ...args], { encoding: 'utf8', env });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('prints, after the summary, the site clock and each group with its doors open or closed now', () => {
    const r = check(site);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/: OK — site hq, 3 doors, 0 readers, 0 resources$/);
    expect(lines[1]).toMatch(/^time zone Asia\/Tokyo: now (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(lines.slice(2)).toEqual([
      'access group staff (lockdown override): 3 doors',
      '  front  open now    entrance on always 00:00-24:00',
      '  lobby  open now    entrance on always 00:00-24:00',
      '  lab    closed now  lab on never',
      'access group security: 1 door',
      '  lab    open now    lab at any time',
      'doors unlocked on a schedule:',
      '  lobby  unlocked now  on always 00:00-24:00',
    ]);
  });

  it('gives the same as JSON under "access"', () => {
    const r = check(site, ['--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { valid: boolean; access: Record<string, unknown> };
    expect(out.valid).toBe(true);
    expect(out.access).toMatchObject({
      timeZone: 'Asia/Tokyo',
      groups: [
        {
          id: 'staff',
          lockdownOverride: true,
          firstPersonIn: false,
          doors: [
            { door: 'front', openNow: true, via: [{ zone: 'entrance', schedule: 'always', open: true, interval: '00:00-24:00' }] },
            { door: 'lobby', openNow: true },
            { door: 'lab', openNow: false, via: [{ zone: 'lab', schedule: 'never', open: false, interval: null }] },
          ],
        },
        { id: 'security', doors: [{ door: 'lab', openNow: true, via: [{ zone: 'lab', schedule: null, open: true, interval: null }] }] },
      ],
      scheduledDoors: [{ door: 'lobby', schedule: 'always', scheduleOpen: true, firstPersonIn: false }],
    });
  });

  it("prints the host's zone when the file names none", () => {
    const r = check(['site: { id: hq }', 'doors: [{ id: front }]'], [], { ...process.env, TZ: 'America/New_York' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^time zone America\/New_York: now /m);
  });

  it('refuses a broken model with path-labelled errors (exit 2), in text and JSON', () => {
    const broken = [...site.slice(0, 5), 'zones: { entrance: { doors: [front, back] } }', 'accessGroups: { staff: { zones: [{ zone: lab }] } }'];
    const r = check(broken);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('zones.entrance.doors[1]: unknown door "back"');
    expect(r.stderr).toContain('accessGroups.staff.zones[0].zone: unknown zone "lab"');
    const json = check(broken, ['--json']);
    expect(json.code).toBe(2);
    expect((JSON.parse(json.stdout) as { errors: string[] }).errors).toEqual(['zones.entrance.doors[1]: unknown door "back"', 'accessGroups.staff.zones[0].zone: unknown zone "lab"']);
  });

  it('passes the shipped examples/access-model.yaml', () => {
    const r = spawnSync(process.execPath, [CLI, 'check-config', join(import.meta.dirname, '../../examples/access-model.yaml')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const group of ['staff (first person in)', 'cleaners', 'security (lockdown override)', 'guests']) expect(r.stdout).toContain(`access group ${group}:`);
    expect(r.stdout).toMatch(/^time zone Europe\/Berlin: now /m);
    expect(r.stdout).toMatch(/^ {2}lobby +(locked now|in hours now) +on lobby-hours/m);
  });
});
