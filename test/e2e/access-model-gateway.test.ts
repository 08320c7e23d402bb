import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { importCards } from '../../src/store/card-import.js';
import { openDatabase } from '../../src/store/db.js';
import { switchLockdown } from '../../src/store/site-admin.js';
import { silentLogger } from '../../src/util/log.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The access model wired by the composition root, on the real clock: groups imported with the
 * card list, a schedule open now and one closed now (built around the current UTC minute),
 * lockdown switched through the store, hard anti-passback moved only by a pulse that was sent,
 * and a reload that changes a group rebuilding the index beside the live one.
 */

const readers = [
  { id: 'front-in', kind: 'stdin', door: 'front', direction: 'in' },
  { id: 'front-out', kind: 'stdin', door: 'front', direction: 'out' },
  { id: 'lab-in', kind: 'stdin', door: 'lab' },
  { id: 'lobby-in', kind: 'stdin', door: 'lobby' },
] as const;

function hhmm(minuteOfDay: number): string {
  const m = ((minuteOfDay % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

function siteConfig(dataDir: string, staffZones: { zone: string; schedule?: string }[]) {
  const now = new Date();
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
  const every = ['mon-sun'] as const;
  return parseConfig({
    site: { id: 'gw', timeZone: 'UTC' },
    dataDir,
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { url: 'embedded', embeddedPort: 0 },
    doors: [{ id: 'front' }, { id: 'lab' }, { id: 'lobby', mode: 'scheduled-unlock', unlockSchedule: 'open-now', firstPersonIn: true }],
    readers,
    schedules: {
      'open-now': { weekly: { [every[0]]: [`${hhmm(minute - 120)}-${hhmm(minute + 120)}`] } },
      'closed-now': { weekly: { [every[0]]: [`${hhmm(minute + 240)}-${hhmm(minute + 300)}`] } },
    },
    zones: { lobby: { doors: ['front'] }, lab: { doors: ['lab'] }, hall: { doors: ['lobby'] } },
    accessGroups: {
      staff: { zones: staffZones },
      security: { zones: [{ zone: 'lobby' }, { zone: 'lab' }, { zone: 'hall' }], lockdownOverride: true, firstPersonIn: true },
    },
    areas: { building: { in: ['front-in'], out: ['front-out'], antiPassback: 'hard' } },
  });
}

describe('gateway: the access model', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('decides by group, schedule, lockdown and anti-passback, and a reload of the model rebuilds the index', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const dataDir = join(t.dir, 'data');
    const config = siteConfig(dataDir, [
      { zone: 'lobby', schedule: 'open-now' },
      { zone: 'lab', schedule: 'closed-now' },
    ]);
    const gateway = new Gateway({ config, logger: silentLogger, stdin: new PassThrough() });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    for (let i = 0; i < 100 && !gateway.relay.connected(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(gateway.relay.connected()).toBe(true);

    const csv = ['email,card,groups', 'ada@example.com,1001,staff', 'sec@example.com,2002,security', 'bob@example.com,3003,'].join('\n');
    importCards(gateway.store, csv, Date.now(), { knownGroups: new Set(['staff', 'security']) });

    let seen = 0;
    /** The decision as recorded (the recorder runs after the pulse, off the read's turn). */
    const swipe = async (id: (typeof readers)[number], card: string) => {
      gateway.pipeline.onLine(gateway.config.readers.find((r) => r.id === id.id)!, card);
      seen++;
      for (let i = 0; i < 200 && gateway.recent.list().length < Math.min(seen, 50); i++) await new Promise((r) => setTimeout(r, 5));
      return gateway.recent.list()[0]!.reason;
    };
    const [frontIn, frontOut, labIn, lobbyIn] = readers;

    // The lobby's schedule is open, but it stands locked until a first-person-in member is in.
    const lobbyHeld = () => gateway.doorHold.status().find((d) => d.door === 'lobby')?.schedule === true;
    gateway.doorHold.reviewNow();
    expect(lobbyHeld()).toBe(false);
    expect(await swipe(lobbyIn, '2002')).toBe('granted');
    for (let i = 0; i < 100 && !lobbyHeld(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(lobbyHeld()).toBe(true);

    expect(await swipe(labIn, '1001')).toBe('outside_schedule');
    expect(await swipe(labIn, '3003')).toBe('no_grant');
    expect(await swipe(frontIn, '1001')).toBe('granted');
    // Inside now (the pulse was sent): entering again is a passback, leaving is not.
    expect(await swipe(frontIn, '1001')).toBe('antipassback');
    expect(await swipe(frontOut, '1001')).toBe('granted');

    switchLockdown(gateway.store, true, Date.now(), 'test');
    expect(await swipe(frontIn, '1001')).toBe('lockdown');
    expect(await swipe(labIn, '2002')).toBe('granted');
    switchLockdown(gateway.store, false, Date.now(), 'test');
    expect(await swipe(frontIn, '1001')).toBe('granted');

    // Staff now reach the lab at any time: the index is rebuilt beside the live one with the new model.
    const before = gateway.index;
    await gateway.reload(siteConfig(dataDir, [{ zone: 'lobby', schedule: 'open-now' }, { zone: 'lab' }]));
    for (let i = 0; i < 100 && gateway.index === before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(gateway.index).not.toBe(before);
    expect(await swipe(labIn, '1001')).toBe('granted');

    // The audit trail says which source opened the door: the group for ada, a booking never here.
    await gateway.stop();
    const db = openDatabase(join(dataDir, 'lintel.db'));
    cleanups.push(() => void db.close());
    const rows = db.prepare("SELECT reason, source FROM audit WHERE result = 'granted' ORDER BY id").all() as { reason: string; source: string | null }[];
    expect(rows.length).toBeGreaterThan(3);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['group']));
  });
});
